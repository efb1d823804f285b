"""partition_cleanup on four years of data: only expired event partitions go, no live post
or follow loses its state, and old follows still bring their authors' posts to the feed."""

from __future__ import annotations

from datetime import UTC, datetime

from dbopt.clickhouse import catalog, partitions, repartition
from tests.clickhouse.conftest import (
    CDC_TABLES,
    FAST,
    check_evaluations,
    failure_messages,
    fingerprint,
    materializations,
    run_job,
)

EVENT_TABLES = ("likes_cdc", "comments_cdc", "shares_cdc", "impressions")


def _stats(ch, table):
    return repartition.month_stats(ch, table, catalog.columns(ch, table))


def _state(ch, table: str, key: str) -> set[tuple]:
    """Live keys and their latest row (the CDC state)."""
    return set(ch.rows(
        f"SELECT {key}, argMax(created_at, version), max(version) FROM {table} "
        f"GROUP BY {key} HAVING argMax(op, version) != 'd'"
    ))


def test_cleanup_drops_only_expired_event_partitions_and_keeps_live_state(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    # The event tables get three more years of history (the generator's follows already span four).
    for table in EVENT_TABLES:
        cols = ", ".join(catalog.columns(ch, table))
        shifted = cols.replace("event_ts", "event_ts - INTERVAL 3 YEAR").replace("created_at", "created_at - INTERVAL 3 YEAR")
        ch.command(f"INSERT INTO {table} ({cols}) SELECT {shifted} FROM {table} WHERE cityHash64(*) % 3 = 0")
    original = {t: fingerprint(ch, t) for t in CDC_TABLES}
    result = run_job("phase1_clickhouse", ch_url, FAST)
    assert result.success, failure_messages(result)

    now = datetime.now(UTC)
    before = {t: _stats(ch, t) for t in (*EVENT_TABLES, "posts_cdc", "follows_cdc")}
    follows_before = _state(ch, "follows_cdc", "follower_id, followee_id")
    posts_before = _state(ch, "posts_cdc", "post_id")
    assert max(len(s) for s in before.values()) > 36  # the plan's alert would fire

    dry = run_job("partition_cleanup", ch_url, {"ops": {"partition_maintenance": {"config": {"dry_run": True}}}})
    assert dry.success, failure_messages(dry)
    assert {t: _stats(ch, t) for t in before} == before, "a dry run changes nothing"
    assert not check_evaluations(dry)[("partition_maintenance", "partitions_within_alert")].passed
    planned = materializations(dry)["partition_maintenance"]

    done = run_job("partition_cleanup", ch_url)
    assert done.success, failure_messages(done)
    figures = materializations(done)["partition_maintenance"]
    assert figures["partitions_dropped"] == planned["partitions_to_drop"] > 0
    assert figures["rows_freed"] == planned["rows_to_free"] > 0 and figures["bytes_freed"] > 0
    assert check_evaluations(done)[("partition_maintenance", "partitions_within_alert")].passed

    for table in EVENT_TABLES:
        keep_from = partitions.boundary(now, partitions.RETENTION_DEFAULTS[table])
        after = _stats(ch, table)
        assert set(after) == {m for m in before[table] if m >= keep_from}, table  # only expired months went
        assert all(after[m] == before[table][m] for m in after), table  # kept months untouched
        assert min(before[table]) < keep_from, f"{table} had nothing to expire"
    # Tables with current state: old months went, yet every live key keeps its latest row.
    for table, key, state in (("follows_cdc", "follower_id, followee_id", follows_before),
                              ("posts_cdc", "post_id", posts_before)):
        keep_from = partitions.boundary(now, partitions.RETENTION_DEFAULTS[table])
        assert min(_stats(ch, table)) >= keep_from
        assert _state(ch, table, key) == state, f"{table}: a live key lost its state"
    assert len(_stats(ch, "follows_cdc")) <= partitions.ALERT_PARTITIONS

    # Follows made more than three years ago still feed their authors' posts.
    refreshed = run_job("refresh_feed_candidates", ch_url)
    assert refreshed.success, failure_messages(refreshed)
    assert all(e.passed for e in check_evaluations(refreshed).values())
    old_follow_rows = ch.scalar(
        "SELECT count() FROM feed_candidates_followees AS c INNER JOIN ("
        "  SELECT follower_id, followee_id, argMax(created_at, version) AS followed_at FROM follows_cdc"
        "  GROUP BY follower_id, followee_id) AS f ON f.follower_id = c.user_id AND f.followee_id = c.author_id "
        "WHERE f.followed_at < now64() - INTERVAL 3 YEAR"
    )
    assert old_follow_rows > 0

    # A second run has nothing left to do.
    again = run_job("partition_cleanup", ch_url)
    assert again.success and materializations(again)["partition_maintenance"]["partitions_dropped"] == 0

    # The rollback brings back the baseline exactly: dropped months come back from the
    # backups, and the rows carried forward are not added next to their originals.
    rolled = run_job("rollback_phase1_clickhouse", ch_url, {"ops": {"rollback_clickhouse": {"config": {"confirm": "rollback"}}}})
    assert rolled.success, failure_messages(rolled)
    assert {t: fingerprint(ch, t) for t in CDC_TABLES} == original


def test_retention_boundary_keeps_partly_retained_months() -> None:
    now = datetime(2025, 7, 15, tzinfo=UTC)
    assert partitions.boundary(now, 6) == 202501
    assert partitions.boundary(now, 24) == 202307
    assert partitions.boundary(datetime(2025, 1, 31, tzinfo=UTC), 1) == 202412


def test_unknown_tables_and_unpartitioned_tables_are_refused_or_skipped(seeded_ch, ch_url) -> None:
    bad = run_job("partition_cleanup", ch_url,
                  {"ops": {"partition_maintenance": {"config": {"retention_months": {"messages": 3}}}}})
    assert not bad.success and any("no retention rule for messages" in m for m in failure_messages(bad))
    # Before Phase 1 the tables have one partition each: nothing may be dropped.
    skipped = run_job("partition_cleanup", ch_url)
    assert skipped.success
    assert materializations(skipped)["partition_maintenance"]["partitions_dropped"] == 0
    notes = [r.data["note"] for r in materializations(skipped)["partition_maintenance"]["retention_months"].records]
    assert any("not partitioned by month yet" in n for n in notes), notes


def _cleanup_config(**config) -> dict:
    return {"ops": {"partition_maintenance": {"config": config}}}


def test_a_now_in_the_future_or_unreadable_is_refused_before_anything_is_dropped(partitioned_ch, ch_url) -> None:
    ch = partitioned_ch
    before = {t: fingerprint(ch, t) for t in CDC_TABLES}

    typo = run_job("partition_cleanup", ch_url, _cleanup_config(now="2036-01-01T00:00:00Z"))
    assert not typo.success
    (message,) = [m.split("Failure: ", 1)[-1].strip() for m in failure_messages(typo)]
    assert message.startswith("now 2036-01-01T00:00:00Z is in the future: later than the ClickHouse server's clock")
    assert "like 2025-01-31T12:00:00Z" in message and message.count(". ") == 0
    unreadable = run_job("partition_cleanup", ch_url, _cleanup_config(now="yesterday"))
    assert not unreadable.success
    assert [m.split("Failure: ", 1)[-1].strip() for m in failure_messages(unreadable)] == [
        "now 'yesterday' is not an ISO 8601 time; write it like 2025-01-31T12:00:00Z."]
    assert {t: fingerprint(ch, t) for t in CDC_TABLES} == before, "nothing was dropped"

    # A little ahead of the server's clock (another host's clock) is within the allowed skew;
    # beyond a configured skew it is refused too.
    ahead = ch.scalar("SELECT now64(3, 'UTC') + INTERVAL 2 MINUTE")
    dry = run_job("partition_cleanup", ch_url, _cleanup_config(dry_run=True, now=ahead.isoformat()))
    assert dry.success, failure_messages(dry)
    strict = run_job("partition_cleanup", ch_url,
                     _cleanup_config(dry_run=True, now=ahead.isoformat(), max_clock_skew_s=30))
    assert not strict.success and "by more than 30s" in failure_messages(strict)[0]
    assert {t: fingerprint(ch, t) for t in CDC_TABLES} == before


def test_the_dry_run_shows_per_table_partitions_live_keys_and_its_now(partitioned_ch, ch_url) -> None:
    ch = partitioned_ch
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    dry = run_job("partition_cleanup", ch_url, _cleanup_config(dry_run=True, now=now.isoformat()))
    assert dry.success, failure_messages(dry)
    figures = next(e for e in dry.all_events if e.event_type_value == "ASSET_MATERIALIZATION") \
        .event_specific_data.materialization.metadata
    assert figures["now"].value == now.timestamp()
    plan = {r.data["table"]: r.data for r in figures["plan"].value.records}
    assert set(plan) == set(partitions.RETENTION_DEFAULTS)
    assert plan["post_metrics_1h"]["note"] == "no such table"
    keep_from = partitions.boundary(now, 24)
    follows = plan["follows_cdc"]
    expired = [p for p in _stats(ch, "follows_cdc") if p < keep_from]
    assert expired and follows["partitions"] == ", ".join(str(p) for p in expired)
    assert follows["kept_from"] == str(keep_from) and follows["live_keys_carried"] > 0
    assert follows["rows"] == sum(_stats(ch, "follows_cdc")[p].rows for p in expired)
    assert plan["impressions"]["partitions"] != "-"  # six months of retention
