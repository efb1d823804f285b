"""The contract's jobs end to end on chDB: phase1_clickhouse, its checks, the ledger, the
rollback (with its confirmation) and the plan's Phase 2.2 query."""

from __future__ import annotations

from dbopt.clickhouse import candidates, catalog, ledger, repartition
from dbopt.status import clickhouse_receipt
from tests.clickhouse.conftest import (
    CDC_TABLES,
    FAST,
    EventWriter,
    check_evaluations,
    counts,
    failure_messages,
    materializations,
    run_job,
)

PHASE1_OBJECTS = {
    "post_metrics_1h", "post_metrics_1h_mv", "user_author_90d", "user_author_90d_mv",
    "feed_candidates_followees", "feed_candidates_trending", "feed_candidates_affinity",
}


def test_phase1_then_rollback_keeps_every_event(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    baseline = counts(ch)
    result = run_job("phase1_clickhouse", ch_url, FAST)
    assert result.success, failure_messages(result)
    evaluations = check_evaluations(result)
    # 13 between the steps, and 6 of clickhouse_preflight before them (issue 15).
    assert len(evaluations) == 19 and all(e.passed for e in evaluations.values()), {
        k: e.metadata for k, e in evaluations.items() if not e.passed}

    tables = catalog.tables(ch, like="%")
    assert set(tables) >= PHASE1_OBJECTS
    assert all(tables[t].partition_key == "toYYYYMM(event_ts)" for t in CDC_TABLES)
    assert all(len(repartition_backups) == 1 for repartition_backups in
               ([n for n in tables if n.startswith(f"{t}__backup_")] for t in CDC_TABLES))
    figures = materializations(result)["cdc_partitioning"]
    assert figures["rows_copied"] == sum(baseline.values()) and figures["rows_per_s"] > 0
    # The tables the feed reads show their columns on their asset pages, as ClickHouse has them.
    for asset in ("post_metrics_1h", "feed_candidates_followees"):
        shown = materializations(result)[asset]
        schema = shown["dagster/column_schema"]
        assert [(c.name, c.type) for c in schema.columns] == catalog.column_types(ch, asset)
        assert shown["dagster/table_name"].endswith(f".{asset}") and shown["dagster/row_count"] > 0

    # The plan's receipt (issue 15), on the job's last asset and in `dbopt status`.
    receipt = materializations(result)["clickhouse_receipt"]
    assert receipt["predicted_s"] > 0 and receipt["actual_s"] > 0
    assert [r.data["step"] for r in receipt["receipt"].records] == [
        "cdc_partitioning", "post_metrics_1h", "user_author_90d", "feed_candidates", "total"]
    lines = clickhouse_receipt(ch_url)
    assert lines[0].startswith(f"  plan receipt of run {result.run_id[:8]}")
    assert lines[1].startswith("  cdc_partitioning: predicted") and " took " in lines[1]

    status = {s["step"]: s for s in ledger.read_status(ch)}
    assert {status[s]["state"] for s in ledger.PHASE1_STEPS} == {"succeeded"}
    assert all(status[s]["finished_at"] is not None for s in ledger.PHASE1_STEPS)

    # The plan's query, unchanged, serves a feed from the three tables.
    user = ch.scalar(
        "SELECT toString(user_id) FROM feed_candidates_followees WHERE user_id IN "
        "(SELECT user_id FROM feed_candidates_affinity) ORDER BY user_id LIMIT 1"
    )
    feed = candidates.feed_for(ch, user, 5)
    assert [r["source"] for r in feed].count("trending") == 5
    assert {r["source"] for r in feed} == {"followees", "trending", "affinity"}

    # Idempotent: a second run changes nothing it already did.
    again = run_job("phase1_clickhouse", ch_url, FAST)
    assert again.success, failure_messages(again)
    assert "already partitioned" in {r.data["action"] for r in materializations(again)["cdc_partitioning"]["tables"].records}

    # Events keep arriving after Phase 1; the rollback needs its confirmation, then keeps them all.
    writer = EventWriter(ch_url, seed_value=3)
    writer.start()
    try:
        writer.wait_for_batches(3)
        refused = run_job("rollback_phase1_clickhouse", ch_url,
                          {"ops": {"rollback_clickhouse": {"config": {"confirm": "yes"}}}})
        assert not refused.success
        assert any('type exactly "rollback"' in m for m in failure_messages(refused))
        dry = run_job("rollback_phase1_clickhouse", ch_url)  # no confirmation: a dry run
        assert dry.success, failure_messages(dry)
        out = next(e for e in dry.all_events if e.event_type_value == "STEP_OUTPUT").event_specific_data.metadata
        assert "restore likes_cdc to the baseline layout" in out["would_do"].value
        assert "drop feed_candidates_followees" in out["would_do"].value
        assert catalog.table(ch, "likes_cdc").partition_key == "toYYYYMM(event_ts)"
        rolled = run_job("rollback_phase1_clickhouse", ch_url,
                         {"ops": {"rollback_clickhouse": {"config": {"confirm": "rollback"}}}})
        assert rolled.success, failure_messages(rolled)
    finally:
        writer.stop()
    writer.assert_all_present(ch, baseline)
    remaining = catalog.tables(ch, like="%")
    assert set(remaining) == set(CDC_TABLES) | {"dbopt_ledger", "dbopt_run_lock"}
    assert all(remaining[t].partition_key == "" for t in CDC_TABLES)
    status = {s["step"]: s["state"] for s in ledger.read_status(ch)}
    assert status["clickhouse.rollback"] == "succeeded"
    assert {status[s] for s in ledger.PHASE1_STEPS} == {"rolled_back"}

    # And again: nothing left to undo.
    twice = run_job("rollback_phase1_clickhouse", ch_url, {"ops": {"rollback_clickhouse": {"config": {"confirm": "rollback"}}}})
    assert twice.success and counts(ch) == {t: baseline[t] + writer.total(t) for t in CDC_TABLES}


def test_a_failed_step_is_one_sentence_and_recorded(ch, ch_url) -> None:
    """On a database without the baseline, clickhouse_preflight stops phase1_clickhouse before any
    step with a sentence naming the fix; the step run on its own fails with one sentence too, recorded."""
    import dagster as dg

    from assets.cdc_partitioning import cdc_partitioning
    from pipelines.resources import ClickHouseResource

    result = run_job("phase1_clickhouse", ch_url, FAST)
    tables = check_evaluations(result)[("clickhouse_preflight", "clickhouse_cdc_tables")]
    assert not tables.passed and "seed the baseline (`dbopt seed`)" in tables.metadata["what it means"].value
    assert set(materializations(result)) == {"clickhouse_preflight"}
    assert ledger.read_status(ch) == []  # no step started

    alone = dg.materialize([cdc_partitioning], resources={"clickhouse": ClickHouseResource(clickhouse_url=ch_url)},
                           raise_on_error=False)
    assert not alone.success
    (message,) = failure_messages(alone)
    assert "does not exist" in message and message.rstrip().endswith("run again.")
    status = {s["step"]: s for s in ledger.read_status(ch)}
    assert status["clickhouse.cdc_partitioning"]["state"] == "failed"
    assert "does not exist" in status["clickhouse.cdc_partitioning"]["detail"]


def test_ledger_is_empty_on_a_database_dbopt_never_touched(ch) -> None:
    assert ledger.read_status(ch) == []
    assert repartition.CDC_TABLES == CDC_TABLES


def test_schedules_are_off_by_default_and_give_valid_run_config() -> None:
    from datetime import UTC, datetime

    import dagster as dg

    from pipelines.definitions import defs

    tick = datetime(2025, 3, 4, 3, 15, 42, tzinfo=UTC)
    for name, job, key, value in (
        ("partition_cleanup_daily", "partition_cleanup", ("partition_maintenance", "now"), tick.isoformat()),
        ("refresh_feed_candidates_hourly", "refresh_feed_candidates", ("feed_candidates", "as_of"),
         tick.replace(second=0).isoformat()),
    ):
        schedule = defs.resolve_schedule_def(name)
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
        request = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests[0]
        assert request.run_config["ops"][key[0]]["config"][key[1]] == value
        assert dg.validate_run_config(defs.resolve_job_def(job), request.run_config)
