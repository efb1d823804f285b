"""phase1_postgres and rollback_phase1_postgres, end to end, while the application writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from dbopt.postgres.traffic import Traffic
from tests.postgres.conftest import all_resources, app_snapshot, failures, run_job
from tests.postgres.invariants import numbering_violations, preexisting_order, violations

BIN = Path(sys.executable).parent
SLOW_BACKFILLS = {  # small batches, so that a kill lands inside a backfill
    name: {"config": {"target_batch_ms": 5}}
    for name in ("sequence_number_backfill", "conversation_counters_backfill", "content_tsv_backfill")
}
CONFIRM = {"ops": {"rollback_postgres_schema": {"config": {"confirm": "rollback"}}}}


def assert_writes_all_landed(url: str, traffic: Traffic) -> None:
    stats = traffic.stats
    assert not stats.errors, f"{len(stats.errors)} failed writes, e.g. {stats.errors[:3]}"
    inserted = [mid for ids in stats.inserted.values() for mid in ids]
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT count(*) FROM messages WHERE id = ANY(%s::uuid[])", (inserted,)).fetchone()[0]
        for mid, content in list(stats.edits.items())[:200]:
            assert conn.execute("SELECT content FROM messages WHERE id = %s", (mid,)).fetchone()[0] == content
    assert found == len(inserted)


def test_phase1_online_while_four_writers_never_pause(seeded_pg_url: str) -> None:
    before = preexisting_order(seeded_pg_url)
    traffic = Traffic(seeded_pg_url, kinds=("send_hot", "send_random", "members", "edit"))
    with traffic:
        time.sleep(0.5)
        result = run_job(seeded_pg_url, "phase1_postgres", {"ops": SLOW_BACKFILLS})
        time.sleep(0.5)
    assert result.success, failures(result)
    assert all(traffic.stats.ops[k] > 5 for k in ("send_hot", "send_random", "members", "edit")), traffic.stats.ops
    assert_writes_all_landed(seeded_pg_url, traffic)
    assert violations(seeded_pg_url) == {}
    assert numbering_violations(seeded_pg_url, before) == []
    # New messages after the rollout continue each conversation's numbering.
    hot = traffic.hot
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        top = conn.execute("SELECT max(sequence_number) FROM messages WHERE conversation_id = %s", (hot,)).fetchone()[0]
        conn.execute("INSERT INTO messages (id, conversation_id, sender_id) VALUES (gen_random_uuid(), %s, gen_random_uuid())", (hot,))
        assert conn.execute("SELECT max(sequence_number) FROM messages WHERE conversation_id = %s", (hot,)).fetchone()[0] == top + 1
    # A second run changes nothing.
    again = run_job(seeded_pg_url, "phase1_postgres")
    assert again.success
    applied = [
        e.event_specific_data.materialization.metadata["applied"].value
        for e in again.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION" and "applied" in e.event_specific_data.materialization.metadata
    ]
    assert applied and set(applied) == {0}
    # ... and skips VACUUM (ANALYZE): it ran after the rollout's last change.
    contract = next(e.event_specific_data.materialization.metadata for e in again.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"
                    and e.event_specific_data.materialization.asset_key.path == ["phase1_postgres_contract"])
    assert contract["analyze"].value.startswith("skipped"), contract["analyze"].value


def _dagster_execute(url: str, home: Path, config: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DAGSTER_HOME": str(home)}
    return subprocess.Popen(
        [str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-j", "phase1_postgres", "-c", str(config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        cwd=home,  # a killed run leaves nothing in the checkout, whatever dagster writes in its cwd
    )


def _wait_for(url: str, sql: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            try:
                if conn.execute(sql).fetchone()[0]:
                    return
            except psycopg.errors.UndefinedTable:
                pass
            time.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {sql}")


def test_phase1_killed_twice_with_sigkill_and_resumed(seeded_pg_url: str, tmp_path: Path) -> None:
    """`dagster job execute` (as the contract runs it) killed twice at random points."""
    import yaml

    seed = int(os.environ.get("DBOPT_KILL_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"ops": SLOW_BACKFILLS}))
    before = preexisting_order(seeded_pg_url)
    traffic = Traffic(seeded_pg_url, kinds=("send_hot", "send_random", "members", "edit"))
    with traffic:
        # Kill 1: a random moment after the rollout started changing the schema.
        run = _dagster_execute(seeded_pg_url, home, config)
        _wait_for(seeded_pg_url, "SELECT count(*) >= 3 FROM dbopt.migration_ledger WHERE outcome = 'applied'")
        time.sleep(rng.uniform(0.0, 2.0))
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        # Kill 2: a random moment while a backfill is half done.
        run = _dagster_execute(seeded_pg_url, home, config)
        _wait_for(seeded_pg_url, "SELECT EXISTS (SELECT 1 FROM dbopt.backfill_progress WHERE rows_done > 0 AND finished_at IS NULL)")
        time.sleep(rng.uniform(0.0, 0.3))
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        # Resume: a fresh run completes.
        run = _dagster_execute(seeded_pg_url, home, config)
        assert run.wait(timeout=600) == 0, f"resumed run failed (seed {seed})"
    assert_writes_all_landed(seeded_pg_url, traffic)
    assert violations(seeded_pg_url) == {}, f"seed {seed}"
    assert numbering_violations(seeded_pg_url, before) == [], f"seed {seed}"


def test_rollback_from_the_finished_rollout_keeps_every_row(seeded_pg_url: str) -> None:
    data_before = app_snapshot(seeded_pg_url)
    assert run_job(seeded_pg_url, "phase1_postgres").success
    dry = run_job(seeded_pg_url, "rollback_phase1_postgres")  # defaults: a dry run
    assert dry.success
    with psycopg.connect(seeded_pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'set_message_sequence'").fetchone()[0] == 1
    result = run_job(seeded_pg_url, "rollback_phase1_postgres", CONFIRM)
    assert result.success, failures(result)
    assert app_snapshot(seeded_pg_url) == data_before
    # Idempotent, and the rollout can be applied again afterwards.
    assert run_job(seeded_pg_url, "rollback_phase1_postgres", CONFIRM).success
    again = run_job(seeded_pg_url, "phase1_postgres")
    assert again.success, failures(again)
    assert violations(seeded_pg_url) == {}


def test_rollback_from_a_half_finished_rollout(seeded_pg_url: str) -> None:
    from dagster import AssetKey

    data_before = app_snapshot(seeded_pg_url)
    import dagster as dg

    import assets
    half = dg.materialize(
        dg.load_assets_from_package_module(assets),
        selection=[AssetKey(k) for k in ("postgres_baseline", "query_indexes", "sequence_number_trigger",
                                         "conversation_counters_triggers", "content_tsv_trigger")],
        resources=all_resources(seeded_pg_url),
    )
    assert half.success
    # ... and a concurrent index build that died half way.
    with psycopg.connect(seeded_pg_url) as old:
        old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        old.execute("SELECT 1 FROM messages LIMIT 1")
        with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                conn.execute("CREATE INDEX CONCURRENTLY idx_messages_content_tsv ON messages USING gin (content_tsv)")
    result = run_job(seeded_pg_url, "rollback_phase1_postgres", CONFIRM)
    assert result.success, failures(result)
    assert app_snapshot(seeded_pg_url) == data_before
    with psycopg.connect(seeded_pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'dbopt'::regnamespace").fetchone()[0] == 0
        assert conn.execute("SELECT to_regclass('idx_messages_content_tsv')").fetchone()[0] is None


def test_wrong_confirmation_is_refused_in_one_sentence(seeded_pg_url: str) -> None:
    result = run_job(seeded_pg_url, "rollback_phase1_postgres",
                     {"ops": {"rollback_postgres_schema": {"config": {"confirm": "yes"}}}})
    assert not result.success
    assert any('type exactly "rollback"' in f for f in failures(result))


def test_ranges_done_by_partitioned_runs_are_skipped_by_the_job(seeded_pg_url: str) -> None:
    import dagster as dg

    import assets
    every = dg.load_assets_from_package_module(assets)
    resources = all_resources(seeded_pg_url)
    before = preexisting_order(seeded_pg_url)
    # The numbering pass also sets content_tsv (one rewrite per message), so its trigger goes first.
    first = [dg.AssetKey(k) for k in ("postgres_baseline", "query_indexes", "content_tsv_trigger",
                                      "sequence_number_trigger")]
    assert dg.materialize(every, selection=first, resources=resources).success
    partition_runs = {}
    for key in ("0", "7", "f"):
        result = dg.materialize(every, selection=[dg.AssetKey("sequence_number_backfill_by_range")],
                                partition_key=key, resources=resources)
        assert result.success
        partition_runs[key] = result.run_id
    job = run_job(seeded_pg_url, "phase1_postgres")
    assert job.success, failures(job)
    with psycopg.connect(seeded_pg_url) as conn:
        done_by = dict(conn.execute(
            "SELECT key_range, run_id FROM dbopt.backfill_progress WHERE backfill = 'sequence_number/number_messages'"
        ).fetchall())
    assert len(done_by) == 16
    assert {k: done_by[k] for k in partition_runs} == partition_runs  # the job did not redo them
    assert all(done_by[k] == job.run_id for k in done_by if k not in partition_runs)
    assert violations(seeded_pg_url) == {}
    assert numbering_violations(seeded_pg_url, before) == []
