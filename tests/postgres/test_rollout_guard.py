"""What a run that changes PostgreSQL checks before its first change, and the one lock of the rollout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psycopg
import pytest

from dbopt.errors import DboptError
from dbopt.postgres.connect import PgConnector
from dbopt.postgres.rollout import ROLLOUT_KEY, RolloutLock
from tests.postgres.conftest import failures

CONFIRM = {"ops": {"rollback_postgres_schema": {"config": {"confirm": "rollback"}}}}


def run(url: str, job: str, run_config: dict | None = None, **resource: object):
    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    return defs.resolve_job_def(job).execute_in_process(
        resources={"postgres": PostgresResource(database_url=url, **resource)},
        run_config=run_config or {},
        raise_on_error=False,
    )


def refusal(result) -> str:
    """The sentence the first failed step gave, without Dagster's exception class in front."""
    # Not a check's result: postgres_preflight's warnings (autovacuum off on CI's PostgreSQL 15) come first.
    message = next(f for f in failures(result) if not f.startswith("check ")).strip()
    return message.split("Failure: ", 1)[-1]


def untouched(url: str) -> bool:
    """No ledger (not even dbopt's schema) and none of Phase 1's columns: nothing changed."""
    with psycopg.connect(url) as conn:
        ledger, column = conn.execute(
            "SELECT to_regclass('dbopt.migration_ledger'), "
            "(SELECT count(*) FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attname = 'sequence_number')"
        ).fetchone()
    return ledger is None and column == 0


@pytest.mark.parametrize(
    ("resource", "run_config", "named"),
    [
        ({"lock_timeout_ms": 0}, {}, "lock_timeout_ms in the postgres resource's config is 0 but must be between 50"),
        ({"lock_timeout_ms": -5}, {}, "lock_timeout_ms in the postgres resource's config is -5 but must be between 50"),
        ({"statement_timeout_s": 0}, {}, "statement_timeout_s in the postgres resource's config is 0 but must be between 1"),
        ({"text_search_config": "no_such_config"}, {}, "text_search_config 'no_such_config' is not a text search configuration on this server"),
        ({}, {"ops": {"content_tsv_backfill": {"config": {"pause_ratio": -1.0}}}}, "pause_ratio in the config of content_tsv_backfill is -1 but must be between 0"),
    ],
    ids=["lock_timeout_0", "lock_timeout_negative", "statement_timeout_0", "bad_text_search_config", "bad_op_config"],
)
def test_a_bad_setting_is_refused_in_one_sentence_before_any_change(
    seeded_pg_url: str, resource: dict, run_config: dict, named: str
) -> None:
    result = run(seeded_pg_url, "phase1_postgres", run_config, **resource)
    assert not result.success
    message = refusal(result)
    assert named in message and message.startswith("Nothing was changed: "), message
    assert message.count(". ") == 0 and message.endswith("."), message  # one sentence
    assert untouched(seeded_pg_url)


def test_a_server_older_than_the_minimum_is_refused_before_any_change(seeded_pg_url: str) -> None:
    """The gate's minimum is raised above this server's version instead of faking an old server."""
    result = run(seeded_pg_url, "phase1_postgres", min_server_version_num=990000)
    assert not result.success
    assert "older than PostgreSQL 99, the oldest this rollout supports" in refusal(result)
    assert untouched(seeded_pg_url)
    rollback = run(seeded_pg_url, "rollback_phase1_postgres", CONFIRM, min_server_version_num=990000)
    assert not rollback.success and "older than PostgreSQL 99" in refusal(rollback)


def _holders(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            # Advisory locks are per database; other tests' databases on a shared server do not count.
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(%s, 0)", (ROLLOUT_KEY,)
        ).fetchall()]


def test_a_rollback_while_the_rollout_runs_is_refused_naming_the_running_run(seeded_pg_url: str) -> None:
    """Two runs at once: the rollout (in a thread, held up by a report's open snapshot) and a rollback."""
    report = psycopg.connect(seeded_pg_url, application_name="nightly-report")
    report.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    # CREATE INDEX CONCURRENTLY waits for this snapshot, whatever table it read; a table the
    # rollout does not change, since a session idle in transaction holding a lock on one it
    # does is postgres_preflight's no-go (tests/postgres/test_postgres_preflight.py).
    report.execute("SELECT count(*) FROM message_reactions")
    outcome: dict = {}
    forward = threading.Thread(target=lambda: outcome.update(result=run(seeded_pg_url, "phase1_postgres")))
    forward.start()
    try:
        deadline = time.monotonic() + 120
        while not _holders(seeded_pg_url):
            assert time.monotonic() < deadline and forward.is_alive(), "the rollout never took its lock"
            time.sleep(0.1)
        second = run(seeded_pg_url, "rollback_phase1_postgres", CONFIRM, rollout_lock_wait_s=0.5)
        third = run(seeded_pg_url, "phase1_postgres", rollout_lock_wait_s=0.5)
    finally:
        report.rollback()
        report.close()
        forward.join(timeout=300)
    first = outcome["result"]
    assert first.success, failures(first)
    for refused in (second, third):
        assert not refused.success
        message = refusal(refused)
        assert f"locked by run {first.run_id[:8]} (phase1_postgres), pid" in message, message
    # The lock ended with the run: a rollback can run now.
    assert not _holders(seeded_pg_url)
    rollback = run(seeded_pg_url, "rollback_phase1_postgres", CONFIRM)
    assert rollback.success, failures(rollback)


def test_range_runs_share_the_lock_and_exclude_the_rest(seeded_pg_url: str) -> None:
    connector = PgConnector(seeded_pg_url)
    ranges = [RolloutLock(connector, owner=f"run r{i} (range)", shared=True, wait_s=0) for i in range(2)]
    for lock in ranges:
        lock.acquire()
    rollback = RolloutLock(connector, owner="run rb (rollback_phase1_postgres)", shared=False, wait_s=0.3)
    with pytest.raises(DboptError, match=r"locked by run r0 \(range\), pid \d+, since .*; run r1 \(range\), pid"):
        rollback.acquire()
    for lock in ranges:
        lock.release()
    rollback.acquire()
    late_range = RolloutLock(connector, owner="run r2 (range)", shared=True, wait_s=0.3)
    with pytest.raises(DboptError, match=r"locked by run rb \(rollback_phase1_postgres\).*a partitioned backfill run"):
        late_range.acquire()
    rollback.release()
    connector.close()


def test_a_killed_worker_does_not_lock_the_next_run_out(seeded_pg_url: str) -> None:
    script = textwrap.dedent(f"""
        import time
        from dbopt.postgres.connect import PgConnector
        from dbopt.postgres.rollout import RolloutLock
        lock = RolloutLock(PgConnector({seeded_pg_url!r}), owner="run killed (phase1_postgres)", shared=False)
        lock.acquire()
        print("held", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(DboptError, match=r"locked by run killed \(phase1_postgres\)"):
            RolloutLock(PgConnector(seeded_pg_url), owner="run next (phase1_postgres)", shared=False, wait_s=0).acquire()
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the worker dies without a word to the server
        proc.wait(timeout=30)
    nxt = RolloutLock(PgConnector(seeded_pg_url), owner="run next (phase1_postgres)", shared=False, wait_s=30)
    nxt.acquire()
    assert _holders(seeded_pg_url) == ["dbopt lock run next (phase1_postgres)"]
    nxt.release()


def test_a_remedy_refused_by_the_rollout_lock_is_one_sentence_and_not_retried(seeded_pg_url: str) -> None:
    """Remedies retry passing failures (RetryPolicy with backoff); an operator's error is final."""
    connector = PgConnector(seeded_pg_url)
    rollout = RolloutLock(connector, owner="run ro (phase1_postgres)", shared=False, wait_s=0)
    rollout.acquire()
    try:
        result = run(seeded_pg_url, "reconcile_conversation_counters", rollout_lock_wait_s=1)
    finally:
        rollout.release()
        connector.close()
    assert not result.success
    assert "run ro (phase1_postgres)" in refusal(result), refusal(result)
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
