"""The rollups count every event once: history backfilled beside live views (no POPULATE),
events written during the build, late events after it; the check finds a wrong rollup."""

from __future__ import annotations

from dbopt.clickhouse import rollups
from dbopt.clickhouse.ddl import Ddl
from tests.clickhouse.conftest import EventWriter, check_evaluations, failure_messages


def test_events_written_during_the_build_are_counted_once(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    # Live traffic: events reach ClickHouse within a second of their time (late events are
    # counted from the moment the views open; see the next test).
    writer = EventWriter(ch_url, late_fraction=0.0, recent_span_s=1, pause_s=0.05)
    writer.start()
    try:
        writer.wait_for_batches(2)
        for rollup in rollups.ROLLUPS.values():
            rollups.build(ch, Ddl(), rollup, grace_s=1.5, log=lambda _: writer.wait_for_batches(1))
        writer.wait_for_batches(2)
    finally:
        writer.stop()
    # Every like the writer wrote, before, during and after the build, is in post_metrics_1h once.
    posts = sorted({post_id for post_id, _user in writer.written["likes_cdc"]})
    want = rollups.recompute(ch, rollups.POST_METRICS_1H, posts, rollups.complete_since(ch, rollups.POST_METRICS_1H))
    have = rollups.stored(ch, rollups.POST_METRICS_1H, posts, rollups.complete_since(ch, rollups.POST_METRICS_1H))
    assert want and want == have
    for rollup in rollups.ROLLUPS.values():
        result = rollups.compare_sample(ch, rollup, 200)
        assert result.ids > 20 and not result.mismatches, result.mismatches[:5]


def test_views_count_new_and_late_events_after_the_build(seeded_ch) -> None:
    ch = seeded_ch
    for rollup in rollups.ROLLUPS.values():
        rollups.build(ch, Ddl(), rollup, grace_s=0)
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


def _materialize_post_metrics(url: str, config: dict):
    import dagster as dg

    from assets.feed_rollups import post_metrics_1h
    from checks.clickhouse_rollups import post_metrics_1h_matches_cdc
    from pipelines.resources import ClickHouseResource

    return dg.materialize(
        [post_metrics_1h, post_metrics_1h_matches_cdc],
        resources={"clickhouse": ClickHouseResource(clickhouse_url=url)},
        run_config={"ops": {"post_metrics_1h": {"config": config}}},
        raise_on_error=False,
    )


def test_check_finds_a_wrong_rollup_and_rebuild_repairs_it(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    first = _materialize_post_metrics(ch_url, {"late_event_grace_s": 0})
    assert first.success, failure_messages(first)
    assert check_evaluations(first)[("post_metrics_1h", "post_metrics_1h_matches_cdc")].passed
    # Something counts twice: a copy of a sampled post's rows.
    since = rollups.complete_since(ch, rollups.POST_METRICS_1H)
    sampled = rollups.sample_ids(ch, rollups.POST_METRICS_1H, since, 50)
    ch.command("INSERT INTO post_metrics_1h SELECT * FROM post_metrics_1h WHERE post_id = {p:UUID}", {"p": sampled[0]})
    broken = _materialize_post_metrics(ch_url, {"late_event_grace_s": 0})  # finished: left as it is
    evaluation = check_evaluations(broken)[("post_metrics_1h", "post_metrics_1h_matches_cdc")]
    assert not evaluation.passed
    assert sampled[0] in evaluation.metadata["offending_sample"].value
    assert "rebuild: true" in evaluation.metadata["next_step"].value
    repaired = _materialize_post_metrics(ch_url, {"rebuild": True, "late_event_grace_s": 0})
    assert repaired.success, failure_messages(repaired)
    assert check_evaluations(repaired)[("post_metrics_1h", "post_metrics_1h_matches_cdc")].passed
