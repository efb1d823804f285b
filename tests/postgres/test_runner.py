"""The migration runner against real PostgreSQL servers."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import psycopg
import pytest

from dbopt.errors import ChangedMigration, DboptError, LockTimeout
from dbopt.postgres import ledger, phase1
from dbopt.postgres.runner import MigrationRunner, RunnerSettings, Sql, index_state
from dbopt.postgres.traffic import Traffic

FAST = RunnerSettings(lock_timeout_ms=200, attempts=3, backoff_base_s=0.1, backoff_max_s=0.3, advisory_wait_s=0.5)


def test_lock_held_too_long_names_the_blocker_and_never_stalls_writers(connector, seeded_pg_url) -> None:
    """Another session holds a lock on messages longer than the retries allow."""
    step = phase1.SEQUENCE_TRIGGER[1]  # ALTER TABLE messages ADD COLUMN ...
    runner = MigrationRunner(connector, settings=FAST)
    holder = psycopg.connect(seeded_pg_url, application_name="nightly-report")
    holder.execute("SELECT count(*) FROM messages")  # ACCESS SHARE, held in an open transaction
    traffic = Traffic(seeded_pg_url, kinds=("send_random", "send_hot"), monitor_locks=True).start()
    try:
        time.sleep(0.3)
        with pytest.raises(LockTimeout) as err:
            runner.apply_step(step)
    finally:
        stats = traffic.stop()
        holder_pid = holder.info.backend_pid
        holder.rollback()
    message = str(err.value)
    assert f"pid {holder_pid}" in message and "nightly-report" in message, message
    assert "messages" in message and "gave up after 3 attempts" in message
    assert not stats.errors, stats.errors[:3]
    assert sum(stats.ops.values()) > 10
    # Writers queued behind the waiting ALTER at most for its lock_timeout (200 ms), never for
    # the holder's whole transaction (several seconds); 1 s leaves room for a busy machine.
    assert max(stats.all_latencies()) < 1000, max(stats.all_latencies())
    # Once the lock is gone, a rerun completes.
    assert runner.apply_step(step).outcome == "applied"
    holder.close()
    with connector.connection() as conn:
        outcomes = [r[0] for r in conn.execute(
            "SELECT outcome FROM dbopt.migration_ledger WHERE step = %s ORDER BY id", (step.name,)).fetchall()]
    assert outcomes == ["failed", "applied"]


def test_applied_step_is_skipped_and_changed_sql_refused(connector, tmp_path: Path, monkeypatch) -> None:
    from dbopt import sqlfiles

    runner = MigrationRunner(connector, settings=FAST)  # creates the ledger from the real sql/
    sql_dir = tmp_path / "sql"
    (sql_dir / "t").mkdir(parents=True)
    monkeypatch.setattr(sqlfiles, "SQL_DIR", sql_dir)
    path = sql_dir / "t" / "010_note.sql"
    path.write_text("CREATE TABLE IF NOT EXISTS dbopt_test_note (id int);\n")
    step = Sql("t/010_note", "t/010_note.sql")
    assert runner.apply_step(step).outcome == "applied"
    assert runner.apply_step(step).outcome == "skipped"
    path.write_text("-- an explanatory comment does not count as a change\nCREATE TABLE IF NOT EXISTS dbopt_test_note (id int);\n")
    assert runner.apply_step(step).outcome == "skipped"
    path.write_text("CREATE TABLE IF NOT EXISTS dbopt_test_note (id bigint);\n")
    with pytest.raises(ChangedMigration, match="has since changed"):
        runner.apply_step(step)


def test_a_rollback_step_whose_sql_changed_still_runs_and_records_the_new_checksum(
    connector, tmp_path: Path, monkeypatch
) -> None:
    """A rerun step (every rollback) edited after it ran must not lock later rollbacks out."""
    from dbopt import sqlfiles

    runner = MigrationRunner(connector, settings=FAST)
    sql_dir = tmp_path / "sql"
    (sql_dir / "t").mkdir(parents=True)
    monkeypatch.setattr(sqlfiles, "SQL_DIR", sql_dir)
    path = sql_dir / "t" / "010_undo.rollback.sql"
    path.write_text("DROP TABLE IF EXISTS dbopt_test_gone;\n")
    step = Sql("rollback/t/010_undo", "t/010_undo.rollback.sql", rerun=True)
    assert runner.apply_step(step).outcome == "applied"
    with connector.connection() as conn:
        conn.execute("CREATE TABLE dbopt_test_gone (id int)")
        conn.execute("CREATE TABLE dbopt_test_also_gone (id int)")
    path.write_text("DROP TABLE IF EXISTS dbopt_test_gone;\nDROP TABLE IF EXISTS dbopt_test_also_gone;\n")
    assert runner.apply_step(step).outcome == "applied"
    with connector.connection() as conn:
        left = conn.execute(
            "SELECT to_regclass('dbopt_test_gone'), to_regclass('dbopt_test_also_gone')"
        ).fetchone()
        assert left == (None, None)
        assert ledger.latest_applied(conn, step.name).checksum == sqlfiles.checksum(step.text())


def test_failed_statement_rolls_back_the_whole_file(connector, tmp_path: Path, monkeypatch) -> None:
    from dbopt import sqlfiles

    runner = MigrationRunner(connector, settings=FAST)
    sql_dir = tmp_path / "sql"
    (sql_dir / "t").mkdir(parents=True)
    monkeypatch.setattr(sqlfiles, "SQL_DIR", sql_dir)
    (sql_dir / "t" / "bad.sql").write_text("CREATE TABLE half_done (id int);\nSELECT no_such_column FROM messages;\n")
    with pytest.raises(DboptError, match="failed and was rolled back"):
        runner.apply_step(Sql("t/bad", "t/bad.sql"))
    with connector.connection() as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
        assert ledger.latest(conn, "t/bad").outcome == "failed"


def test_invalid_index_from_a_failed_build_is_rebuilt(connector, seeded_pg_url, caplog) -> None:
    step = phase1.QUERY_INDEXES[0]
    index, table = step.target()
    # A concurrent build waits for every transaction that holds an older snapshot; make it
    # give up there, after it has created the (INVALID) index.
    old_snapshot = psycopg.connect(seeded_pg_url)
    old_snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    old_snapshot.execute("SELECT count(*) FROM posts")
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            conn.execute(step.text())
        assert index_state(conn, table, index) == "invalid"
    old_snapshot.rollback()
    old_snapshot.close()
    with caplog.at_level(logging.WARNING):
        result = MigrationRunner(connector, settings=FAST).apply_step(step)
    assert result.outcome == "applied"
    assert "INVALID index" in caplog.text
    with connector.connection() as conn:
        assert index_state(conn, table, index) == "valid"


def test_a_step_another_session_is_applying_is_refused(connector, seeded_pg_url) -> None:
    step = phase1.SEQUENCE_TRIGGER[0]
    other = psycopg.connect(seeded_pg_url, autocommit=True, application_name="other-run")
    other.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"dbopt:{step.name}",))
    try:
        with pytest.raises(DboptError, match=r"being applied right now by pid \d+ \(other-run\)"):
            MigrationRunner(connector, settings=FAST).apply_step(step)
    finally:
        other.close()


def test_concurrent_index_build_does_not_block_writers(connector, seeded_pg_url) -> None:
    """CREATE INDEX CONCURRENTLY runs while writers write; none of them fails."""
    with Traffic(seeded_pg_url, kinds=("send_random", "edit")) as traffic:
        time.sleep(0.2)
        results = MigrationRunner(connector, settings=FAST).apply(phase1.QUERY_INDEXES)
        time.sleep(0.2)
    assert [r.outcome for r in results] == ["applied"] * 3
    assert not traffic.stats.errors
    assert threading.active_count() >= 1


def test_steps_with_nothing_to_do_are_logged_in_one_entry_in_order(connector, tmp_path: Path, monkeypatch, caplog) -> None:
    """A rerun's skipped steps make one log entry (each entry is an event-log write in a Dagster run),
    written before the next step that does work, so the log keeps the steps' order."""
    from dbopt import sqlfiles

    runner = MigrationRunner(connector, settings=FAST)
    sql_dir = tmp_path / "sql"
    (sql_dir / "t").mkdir(parents=True)
    monkeypatch.setattr(sqlfiles, "SQL_DIR", sql_dir)
    steps = []
    for n in (10, 20, 30):
        (sql_dir / "t" / f"0{n}_note.sql").write_text(f"CREATE TABLE IF NOT EXISTS dbopt_test_note_{n} (id int);\n")
        steps.append(Sql(f"t/0{n}_note", f"t/0{n}_note.sql"))
    runner.apply(steps[:2])
    with caplog.at_level(logging.INFO, logger="dbopt.runner"):
        results = runner.apply(steps)
    assert [r.outcome for r in results] == ["skipped", "skipped", "applied"]
    notes = [r.getMessage() for r in caplog.records if "nothing to do" in r.getMessage()]
    assert len(notes) == 1 and "t/010_note: already applied" in notes[0] and "t/020_note: already applied" in notes[0]
    messages = [r.getMessage() for r in caplog.records]
    assert messages.index(notes[0]) < min(i for i, m in enumerate(messages) if "t/030_note" in m)
