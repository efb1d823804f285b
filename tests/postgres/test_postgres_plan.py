"""postgres_plan on real servers: it predicts every step (rows, locks, index sizes) without
writing anything, its receipt after a real phase1_postgres run, writers running through it,
a database where phase1 is applied, and a bad config value."""

from __future__ import annotations

import threading

import psycopg
import pytest

from dbopt.postgres import phase1, rollout_plan
from dbopt.postgres.backfill import KEY_RANGES
from dbopt.postgres.connect import PgConnector
from dbopt.postgres.traffic import Traffic
from dbopt.status import postgres_receipt
from tests.postgres.conftest import failures, run_job
from tests.postgres.test_postgres_preflight import (
    catalog_snapshot,
    run_preflight_writing_nothing,
)


def plan_of(url: str, **settings) -> rollout_plan.Plan:
    connector = PgConnector(url)
    try:
        return rollout_plan.compute(connector, settings=rollout_plan.PlanSettings(**settings))
    finally:
        connector.close()


def test_plan_predicts_every_step_and_writes_nothing(seeded_pg_url: str) -> None:
    result = run_preflight_writing_nothing(seeded_pg_url)
    [mat] = result.asset_materializations_for_node("postgres_plan")
    steps = mat.metadata["plan_json"].value["steps"]
    assert [s["step"] for s in steps] == [*(s.name for _, s in phase1.forward_steps()), rollout_plan.ORCHESTRATION]
    for s in steps:
        assert s["todo"] and 0 < s["low_s"] <= s["seconds"] <= s["high_s"], s
        assert "not measured" not in s["basis"], s
        assert s["lock"] and s["writers_wait"], s
    by_name = {s["step"]: s for s in steps}
    with psycopg.connect(seeded_pg_url) as conn:
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    # Rows: what the backfills walk, the index builds read.
    assert by_name[phase1.SEQUENCE_NUMBERING.name]["rows"] > 0.9 * messages
    assert by_name["content_tsv/backfill"]["rows"] > 0.9 * messages
    indexes = [s for s in steps if s["kind"] == "index"]
    assert len(indexes) == 5 and all(s["index_bytes"] > 0 and s["rows"] > 0 for s in indexes)
    # Locks: catalog DDL makes writers wait at most lock_timeout; concurrent builds never.
    assert by_name["sequence_number/020_messages_column"]["lock"] == "ACCESS EXCLUSIVE on messages"
    assert by_name["sequence_number/020_messages_column"]["writers_wait"].startswith("yes: at most lock_timeout (500 ms)")
    assert by_name["content_tsv/050_gin_index"]["writers_wait"].startswith("no")
    # A btree's size scales with the rows; a GIN index's is fitted as bytes per posting plus bytes
    # per key when the second build on half the sample allows it (on `tiny` it does not: rows).
    assert "size x rows," in by_name["query_indexes/010_messages_conversation_created_id"]["basis"] + ","
    table = mat.metadata["new_indexes"].value
    assert len(table.records) == 5


def test_receipt_after_a_real_phase1_run(seeded_pg_url: str, monkeypatch) -> None:
    result = run_job(seeded_pg_url, "phase1_postgres")
    assert result.success, failures(result)
    [mat] = result.asset_materializations_for_node("phase1_postgres_contract")
    rows = [r.data for r in mat.metadata["receipt"].value.records]
    planned = [s.name for _, s in phase1.forward_steps()]
    assert [r["step"] for r in rows] == [*planned, rollout_plan.ORCHESTRATION, "total"]
    for r in rows:
        assert r["predicted_s"] and r["actual_s"], r  # every step predicted and measured in this run
    assert mat.metadata["actual_s"].value > 0 and mat.metadata["predicted_s"].value > 0
    # The plan replays the steps in the order the job applies them (it matters: the numbering
    # rewrites each message once, before the GIN index exists).
    with psycopg.connect(seeded_pg_url) as conn:
        applied = [r[0] for r in conn.execute(
            "SELECT step FROM dbopt.migration_ledger WHERE run_id = %s AND outcome = 'applied' ORDER BY id",
            (result.run_id,))]
    assert applied == [s for s in planned if s in applied] and len(applied) == len(planned), " ".join(applied)
    # The plan walks each backfill as the engine does: one walk per key range (a batch at least
    # per range: 60 conversations make 16 batches, not one) and a VACUUM per tenth of the table
    # rewritten. It predicted the counters backfill at a third of its time when it did not.
    [plan] = result.asset_materializations_for_node("postgres_plan")
    predicted = {s["step"]: s for s in plan.metadata["plan_json"].value["steps"]}
    ran = {}
    for node in ("conversation_counters_backfill", "sequence_number_backfill"):
        [backfills] = result.asset_materializations_for_node(node)
        ran |= {r.data["backfill"]: r.data for r in backfills.metadata["backfills"].value.records}
    for name in (phase1.COUNTERS_BACKFILL.name, phase1.SEQUENCE_INIT_COUNTERS.name, phase1.SEQUENCE_SWEEP_COUNTERS.name):
        assert (predicted[name]["batches"], predicted[name]["vacuums"]) == (ran[name]["batches"], ran[name]["vacuums"]), \
            (name, ran[name])
    assert ran[phase1.COUNTERS_BACKFILL.name]["batches"] == len(KEY_RANGES)
    # dbopt status shows the same receipt, from dbopt's ledger.
    monkeypatch.setenv("DATABASE_URL", seeded_pg_url)
    lines = postgres_receipt()
    assert lines[0].startswith(f"  plan receipt of run {result.run_id[:8]}")
    assert any(line.startswith("  total: predicted ") and " took " in line for line in lines)


def test_plan_with_writers_running_neither_fails_nor_blocks_them(seeded_pg_url: str) -> None:
    blocked_by_plan: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        """The kind of lock any writer waits for behind the plan's session (its application_name):
        a row of one of the plan's small rolled-back batches at most, never a table."""
        with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
            while not stop.is_set():
                blocked_by_plan.extend(r[0] for r in conn.execute(
                    "SELECT l.locktype FROM pg_stat_activity w "
                    "JOIN pg_stat_activity b ON b.pid = ANY (pg_blocking_pids(w.pid)) "
                    "JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted "
                    "WHERE w.application_name = 'app-writer' AND b.application_name = 'dbopt postgres_plan'"
                ).fetchall())
                stop.wait(0.005)

    watcher = threading.Thread(target=watch)
    traffic = Traffic(seeded_pg_url, kinds=("send_hot", "send_random", "members", "edit"), monitor_locks=False)
    catalog = catalog_snapshot(seeded_pg_url)
    with traffic:
        watcher.start()
        try:
            plan = plan_of(seeded_pg_url)
        finally:
            stop.set()
            watcher.join()
    stats = traffic.stats
    assert stats.errors == []
    assert sum(stats.ops.values()) > 0
    assert set(blocked_by_plan) <= {"transactionid", "tuple"}, blocked_by_plan
    assert all(s.todo and "not measured" not in s.basis for s in plan.steps), plan.notes
    assert catalog_snapshot(seeded_pg_url) == catalog


def test_plan_where_phase1_is_applied_says_nothing_to_do(phase1_pg_url: str) -> None:
    plan = plan_of(phase1_pg_url)
    for s in plan.steps:
        if s.step == rollout_plan.ORCHESTRATION:  # the checks run on every run
            continue
        # VACUUM (ANALYZE) too: it ran after the rollout's last change (its guard).
        assert not s.todo and s.changes.startswith("nothing to do"), s
    lines = rollout_plan.format_plan(plan)
    assert lines[0].endswith(f"0 of {len(plan.steps) - 1} steps to do")
    assert "  sequence_number/number_messages: nothing to do (applied)" in lines


def test_a_bad_config_value_is_one_sentence(seeded_pg_url: str) -> None:
    result = run_job(seeded_pg_url, "preflight_postgres",
                     {"ops": {"postgres_plan": {"config": {"sample_rows": 10}}}})
    assert not result.success
    # (not the preflight's warnings: autovacuum is off on CI's PostgreSQL 15)
    [message] = {m.strip() for m in failures(result) if not m.startswith("check ")}
    assert message.endswith(
        "Nothing was sampled: sample_rows in the config of postgres_plan is 10 but must be between 1,000 and "
        "2,000,000; fix it in the run's config and launch the run again."
    ), message
    assert len(message.splitlines()) == 1


def test_dbopt_plan_prints_the_plan_after_the_preflight(seeded_pg_url: str, monkeypatch, capsys,
                                                         only_postgres_configured) -> None:
    from dbopt import cli

    monkeypatch.setenv("DATABASE_URL", seeded_pg_url)
    assert cli.main(["plan"]) in (0, 1)  # go, or a warning (autovacuum off on CI's server)
    out = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(out) if line.startswith("  PostgreSQL plan (phase1_postgres): "))
    assert out[head].endswith(f"{len(phase1.forward_steps())} of {len(phase1.forward_steps())} steps to do")
    assert out[head + 1].startswith("    content_tsv/010_column: ")
    assert any(line.startswith("    calibrated here in ") for line in out)


def test_a_sweep_is_predicted_over_the_dead_versions_the_engine_leaves_not_the_samples() -> None:
    """The sample is rolled back and never vacuumed, so its heap shows every rewrite's dead
    version (2.5 per row after two passes); the engine VACUUMs every tenth of the rows on the
    real table, so a later walk there reads at most 1.1 (measured on medium: the sweeps were
    predicted 30.5 s and took 8.3 s when the plan used the sample's 2.5)."""
    from dbopt.postgres.rollout_plan import dead_versions_read

    assert dead_versions_read(2.5, 0.1) == pytest.approx(1.1)
    assert dead_versions_read(1.04, 0.1) == pytest.approx(1.04)  # fewer than a tenth: as measured
    assert dead_versions_read(2.5, 0.0) == 2.5  # no VACUUMs by the engine: every version stays
    assert dead_versions_read(0.9, 0.1) == 1.0
