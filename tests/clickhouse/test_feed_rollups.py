"""The rollups count every event once: views open from the start, history backfilled and
reconciled beside them (no POPULATE, no cut-off), events written during the build (late, or
ahead of the clock) and after it; a like before its post; the check finds a wrong rollup."""

from __future__ import annotations

from dbopt.clickhouse import rollups
from dbopt.clickhouse.ddl import Ddl
from tests.clickhouse.conftest import EventWriter, check_evaluations, failure_messages, materializations


def _full_comparison(ch, writer: EventWriter) -> None:
    """Every rollup row of the writer's posts (post_metrics_1h) and of the writer as a user
    (user_author_90d) equals a recomputation from the CDC tables, and a sample of the rest too."""
    pm, ua = rollups.POST_METRICS_1H, rollups.USER_AUTHOR_90D
    posts = sorted({k[0] for t in ("likes_cdc", "shares_cdc", "impressions") for k in writer.written[t]}
                   | {k[1] for k in writer.written["comments_cdc"]})
    since = rollups.complete_since(ch, pm)
    want, have = rollups.recompute(ch, pm, posts, since), rollups.stored(ch, pm, posts, since)
    assert want and want == have, sorted(set(want.items()) ^ set(have.items()))[:5]
    since = rollups.complete_since(ch, ua)
    me = [str(EventWriter.WRITER)]
    want, have = rollups.recompute(ch, ua, me, since), rollups.stored(ch, ua, me, since)
    assert want and want == have, sorted(set(want.items()) ^ set(have.items()))[:5]
    for rollup in rollups.ROLLUPS.values():
        result = rollups.compare_sample(ch, rollup, 200)
        assert result.ids > 20 and not result.mismatches, result.mismatches[:5]


def test_events_written_during_the_build_late_early_and_ahead_of_the_clock_are_counted_once(seeded_ch,
                                                                                           ch_url) -> None:
    ch = seeded_ch
    # Live traffic with late events (any of the last 14 months, so also months already
    # backfilled), events stamped ahead of the clock, and interactions with the writer's own
    # posts (user_author_90d joins them to posts_cdc).
    writer = EventWriter(ch_url, late_fraction=0.3, ahead_fraction=0.1, own_posts_fraction=0.5, pause_s=0.05)
    writer.start()
    try:
        writer.wait_for_batches(2)
        for rollup in rollups.ROLLUPS.values():
            # The writer writes between every two months of the backfill and between the two
            # observations of every reconcile pass.
            report = rollups.build(ch, Ddl(), rollup, hook=lambda _phase: writer.wait_for_batches(1))
            assert report.months > 3 and report.backfilled_rows > 0
        writer.wait_for_batches(2)
    finally:
        writer.stop()
    late = ch.scalar("SELECT count() FROM likes_cdc WHERE user_id = {w:UUID} AND event_ts < now64() - INTERVAL 40 DAY",
                     {"w": EventWriter.WRITER})
    ahead = ch.scalar("SELECT count() FROM likes_cdc WHERE user_id = {w:UUID} AND event_ts > now64()",
                      {"w": EventWriter.WRITER})
    assert late > 0 and ahead > 0, "the writer wrote late events and events ahead of the clock"
    _full_comparison(ch, writer)


def test_a_difference_seen_once_is_an_insert_in_flight_and_is_not_added(seeded_ch) -> None:
    """Between an INSERT's CDC row and its view's row the rollup looks one short; the
    reconcile adds only what it sees twice, after waiting for running INSERTs."""
    ch = seeded_ch
    rollup = rollups.POST_METRICS_1H
    rollups.build(ch, Ddl(), rollup)
    post, hour = ch.rows("SELECT post_id, hour FROM post_metrics_1h WHERE likes > 0 ORDER BY post_id, hour LIMIT 1")[0]
    row = "INSERT INTO post_metrics_1h VALUES ({p:UUID}, {h:DateTime('UTC')}, {n:Int64}, 0, 0, 0)"
    ch.command(row, {"p": post, "h": hour, "n": -1})  # the view's row of a like is not there yet ...

    def view_row_lands(phase: str) -> None:
        if phase == "observed":  # ... and lands between the two observations
            ch.command(row, {"p": post, "h": hour, "n": 1})

    report = rollups.reconcile(ch, Ddl(), rollup, hook=view_row_lands)
    assert report.corrected_rows == 0 and report.unconfirmed_rows == 1
    assert not rollups.compare_sample(ch, rollup, 400).mismatches
    want = rollups.recompute(ch, rollup, [str(post)], rollups.complete_since(ch, rollup))
    assert want == rollups.stored(ch, rollup, [str(post)], rollups.complete_since(ch, rollup))


def test_a_like_that_arrives_before_its_post_counts_once_the_rollup_is_reconciled(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    result = _materialize(ch_url, rollups.USER_AUTHOR_90D, {})
    assert result.success, failure_messages(result)
    post, author, user = "00000000-0000-4000-8000-0000000000b1", "00000000-0000-4000-8000-0000000000b2", \
        "00000000-0000-4000-8000-0000000000b3"
    ch.command("INSERT INTO likes_cdc VALUES ({p:UUID}, {u:UUID}, now64(), 'c', now64(), 1)", {"p": post, "u": user})
    ch.command("INSERT INTO posts_cdc VALUES ({p:UUID}, {a:UUID}, 'image', now64(), 'c', now64(), 1)",
               {"p": post, "a": author})
    mine = "SELECT sum(likes) FROM user_author_90d WHERE user_id = {u:UUID} AND author_id = {a:UUID}"
    assert ch.scalar(mine, {"u": user, "a": author}) == 0, "the view found no author for the like"
    again = _materialize(ch_url, rollups.USER_AUTHOR_90D, {})
    assert again.success, failure_messages(again)
    figures = materializations(again)["user_author_90d"]
    assert figures["action"] == "reconciled" and figures["corrected_rows"] == 1
    assert ch.scalar(mine, {"u": user, "a": author}) == 1
    assert check_evaluations(again)[("user_author_90d", "user_author_90d_matches_cdc")].passed


def test_views_count_new_and_late_events_after_the_build(seeded_ch) -> None:
    ch = seeded_ch
    for rollup in rollups.ROLLUPS.values():
        rollups.build(ch, Ddl(), rollup)
    post, author = ch.rows("SELECT post_id, author_id FROM posts_cdc WHERE op = 'c' ORDER BY post_id LIMIT 1")[0]
    user = "00000000-0000-4000-8000-0000000000aa"

    def like(op: str, ts: str, k: int) -> None:
        ch.command(
            "INSERT INTO likes_cdc VALUES ({p:UUID}, {u:UUID}, now64(), {op:String}, "
            "toDateTime64({ts:String}, 3, 'UTC'), toUInt64(toUnixTimestamp64Milli(toDateTime64({ts:String}, 3, 'UTC'))) * 4 + {k:UInt8})",
            {"p": post, "u": user, "op": op, "ts": ts, "k": k},
        )

    now = ch.scalar("SELECT toString(toStartOfHour(now64()))")  # an hour that has started
    late = ch.scalar("SELECT toString(toStartOfHour(now64() - INTERVAL 60 DAY))")
    like("c", now, 1)  # a new like
    like("c", late, 1)  # a late one, stamped two months ago
    like("d", late, 2)  # and its unlike in the same hour
    for rollup in rollups.ROLLUPS.values():
        result = rollups.compare_sample(ch, rollup, 400)
        assert not result.mismatches, result.mismatches[:5]
    hourly = dict(ch.rows(
        "SELECT toString(hour), sum(likes) FROM post_metrics_1h WHERE post_id = {p:UUID} GROUP BY hour", {"p": post}
    ))
    assert hourly.get(now[:19], 0) >= 1
    interactions = ch.rows(
        "SELECT sum(likes) FROM user_author_90d WHERE user_id = {u:UUID} AND author_id = {a:UUID}",
        {"u": user, "a": author},
    )
    assert interactions == [(1,)]  # the late like and its unlike cancel out


def _materialize(url: str, rollup: rollups.Rollup, config: dict):
    import dagster as dg

    from assets import feed_rollups
    from checks import feed_rollups as feed_rollups_checks
    from pipelines.resources import ClickHouseResource

    return dg.materialize(
        [getattr(feed_rollups, rollup.name), getattr(feed_rollups_checks, f"{rollup.name}_matches_cdc")],
        resources={"clickhouse": ClickHouseResource(clickhouse_url=url)},
        run_config={"ops": {rollup.name: {"config": config}}},
        raise_on_error=False,
    )


def test_check_finds_a_wrong_rollup_and_materializing_again_repairs_it(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    pm = rollups.POST_METRICS_1H
    first = _materialize(ch_url, pm, {})
    assert first.success, failure_messages(first)
    assert check_evaluations(first)[("post_metrics_1h", "post_metrics_1h_matches_cdc")].passed
    # Something counts twice: a copy of a sampled post's rows.
    since = rollups.complete_since(ch, pm)
    sampled = rollups.sample_ids(ch, pm, since, 50)
    ch.command("INSERT INTO post_metrics_1h SELECT * FROM post_metrics_1h WHERE post_id = {p:UUID}", {"p": sampled[0]})
    found = rollups.compare_sample(ch, pm, 50)
    assert found.mismatches and all(m["post_id"] == sampled[0] for m in found.mismatches)
    repaired = _materialize(ch_url, pm, {})
    assert repaired.success, failure_messages(repaired)
    figures = materializations(repaired)["post_metrics_1h"]
    assert figures["action"] == "reconciled" and figures["corrected_rows"] == len(found.mismatches)
    assert check_evaluations(repaired)[("post_metrics_1h", "post_metrics_1h_matches_cdc")].passed
    rebuilt = _materialize(ch_url, pm, {"rebuild": True})
    assert rebuilt.success and materializations(rebuilt)["post_metrics_1h"]["action"] == "built"
    assert check_evaluations(rebuilt)[("post_metrics_1h", "post_metrics_1h_matches_cdc")].passed
