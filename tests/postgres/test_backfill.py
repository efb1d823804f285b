"""The backfill engine against real PostgreSQL servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from dbopt import sqlfiles
from dbopt.errors import DboptError
from dbopt.postgres import ledger
from dbopt.postgres.backfill import Backfill, BackfillEngine, BackfillSettings, uuid_ranges
from dbopt.postgres.connect import PgConnector
from dbopt.postgres.health import ThrottleSettings

ROWS = 3000


@pytest.fixture
def table(pg_url: str, tmp_path: Path, monkeypatch) -> str:
    """A table with a composite key full of ties, and batch files that count visits."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        ledger.ensure(conn)
        conn.execute("CREATE TABLE bf (g int, ts timestamptz, id uuid DEFAULT gen_random_uuid(), hits int DEFAULT 0, "
                     "seq bigint, PRIMARY KEY (g, ts, id))")
        # 30 groups, and 10 rows share every timestamp.
        conn.execute(f"INSERT INTO bf (g, ts) SELECT n % 30, timestamptz '2025-01-01' + (n / 10) * interval '1 ms' "
                     f"FROM generate_series(1, {ROWS}) n")
    sql_dir = tmp_path / "sql"
    (sql_dir / "bf").mkdir(parents=True)
    (sql_dir / "bf" / "hit.batch.sql").write_text("UPDATE bf SET hits = hits + 1 WHERE /*{{batch}}*/ true;\n")
    (sql_dir / "bf" / "slow_hit.batch.sql").write_text(
        "SELECT pg_sleep(0.03);\nUPDATE bf SET hits = hits + 1 WHERE /*{{batch}}*/ true;\n"
    )
    # Numbers rows 1..N per group in (ts, id) order, carrying the count across batches.
    (sql_dir / "bf" / "number.batch.sql").write_text(textwrap.dedent("""
        WITH todo AS (SELECT id, g, ts FROM bf WHERE /*{{batch}}*/ true AND seq IS NULL),
        numbered AS (
            SELECT id, row_number() OVER (PARTITION BY g ORDER BY ts, id)
                       + CASE WHEN g = /*{{lower_first}}*/ NULL::int THEN /*{{carry}}*/ 0 ELSE 0 END AS n
            FROM todo),
        upd AS (UPDATE bf SET seq = numbered.n FROM numbered WHERE bf.id = numbered.id RETURNING bf.g, bf.seq)
        SELECT count(*) AS rows,
               coalesce(max(seq) FILTER (WHERE g = /*{{upper_first}}*/ NULL::int),
                        CASE WHEN /*{{upper_first}}*/ NULL::int = /*{{lower_first}}*/ NULL::int
                             THEN /*{{carry}}*/ 0 ELSE 0 END) AS carry
        FROM upd;
    """))
    monkeypatch.setattr(sqlfiles, "SQL_DIR", sql_dir)
    return pg_url


def spec(path: str, **kw) -> Backfill:
    defaults = {"initial_batch": 37, "min_batch": 10, "max_batch": 200, "target_batch_ms": 50}
    return Backfill(name=f"test/{path}", table="bf", key=("g", "ts", "id"), batch_path=f"bf/{path}.batch.sql",
                    **{**defaults, **kw})


def hits(url: str) -> dict[int, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT hits, count(*) FROM bf GROUP BY hits").fetchall())


def test_composite_keyset_visits_every_row_exactly_once(table: str) -> None:
    report = BackfillEngine(PgConnector(table)).run(spec("hit"))
    assert hits(table) == {1: ROWS}
    assert report.rows == ROWS
    assert report.batches > ROWS // 200
    with psycopg.connect(table) as conn:
        done = conn.execute("SELECT finished_at IS NOT NULL, rows_done FROM dbopt.backfill_progress").fetchone()
    assert done == (True, ROWS)
    # A finished backfill does nothing the second time.
    assert BackfillEngine(PgConnector(table)).run(spec("hit")).rows == 0
    assert hits(table) == {1: ROWS}


def test_carry_numbers_each_group_across_batches(table: str) -> None:
    BackfillEngine(PgConnector(table)).run(spec("number", initial_batch=13, max_batch=13, min_batch=13))
    with psycopg.connect(table) as conn:
        wrong = conn.execute(
            "SELECT count(*) FROM (SELECT seq, row_number() OVER (PARTITION BY g ORDER BY ts, id) AS rn FROM bf) x "
            "WHERE seq IS DISTINCT FROM rn"
        ).fetchone()[0]
    assert wrong == 0


def test_killed_run_resumes_and_never_redoes_a_batch(table: str) -> None:
    """SIGKILL the process mid-backfill; the resumed run leaves every row visited exactly once."""
    script = textwrap.dedent(f"""
        import sys
        from dbopt import sqlfiles
        from pathlib import Path
        sqlfiles.SQL_DIR = Path({str(sqlfiles.SQL_DIR)!r})
        from dbopt.postgres.backfill import Backfill, BackfillEngine
        from dbopt.postgres.connect import PgConnector
        spec = Backfill(name="test/slow_hit", table="bf", key=("g", "ts", "id"), batch_path="bf/slow_hit.batch.sql",
                        initial_batch=40, min_batch=40, max_batch=40)
        BackfillEngine(PgConnector({table!r})).run(spec)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        with psycopg.connect(table, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("SELECT batches FROM dbopt.backfill_progress WHERE backfill = 'test/slow_hit'").fetchone()
                if row and row[0] >= 5:
                    break
                time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    before = hits(table)
    assert before.get(0) and before.get(1), before  # killed half way
    report = BackfillEngine(PgConnector(table)).run(
        Backfill(name="test/slow_hit", table="bf", key=("g", "ts", "id"), batch_path="bf/slow_hit.batch.sql",
                 initial_batch=40, min_batch=40, max_batch=40)
    )
    assert hits(table) == {1: ROWS}
    assert report.rows_before >= 5 * 40
    assert report.rows + report.rows_before == ROWS


def test_pauses_while_a_long_transaction_is_open_then_says_why(table: str) -> None:
    old = psycopg.connect(table, application_name="forgotten-session")
    old.execute("SELECT 1")  # idle in transaction from now on
    time.sleep(0.6)
    settings = BackfillSettings(throttle=ThrottleSettings(max_transaction_age_s=0.5, pause_s=0.2, max_pause_s=1.0))
    try:
        with pytest.raises(DboptError, match=rf"paused .* transaction of pid {old.info.backend_pid} open for"):
            BackfillEngine(PgConnector(table), settings=settings).run(spec("hit"))
    finally:
        old.close()
    assert hits(table) == {0: ROWS}  # nothing was done while unhealthy
    BackfillEngine(PgConnector(table), settings=settings).run(spec("hit"))
    assert hits(table) == {1: ROWS}


def test_key_ranges_cover_the_key_space_once(pg_url: str, tmp_path: Path, monkeypatch) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        ledger.ensure(conn)
        conn.execute("CREATE TABLE u (id uuid PRIMARY KEY, hits int DEFAULT 0)")
        conn.execute("INSERT INTO u (id) SELECT gen_random_uuid() FROM generate_series(1, 2000)")
    sql_dir = tmp_path / "sql"
    (sql_dir / "u").mkdir(parents=True)
    (sql_dir / "u" / "hit.batch.sql").write_text("UPDATE u SET hits = hits + 1 WHERE /*{{batch}}*/ true;\n")
    monkeypatch.setattr(sqlfiles, "SQL_DIR", sql_dir)
    ranges = uuid_ranges(16)
    assert ranges[0].lo is None and ranges[-1].hi is None
    b = Backfill(name="test/u", table="u", key=("id",), batch_path="u/hit.batch.sql", initial_batch=50)
    engine = BackfillEngine(PgConnector(pg_url))
    engine.run(b, ranges[:5])
    report = engine.run(b, ranges)  # the first five are done already
    assert report.ranges_skipped == 5 and report.ranges_done == 11
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT hits, count(*) FROM u GROUP BY 1").fetchall() == [(1, 2000)]
        assert conn.execute("SELECT count(*) FROM dbopt.backfill_progress WHERE finished_at IS NOT NULL").fetchone()[0] == 16


def test_batch_size_adapts_to_the_target_duration(table: str) -> None:
    fast = BackfillEngine(PgConnector(table)).run(spec("hit", initial_batch=10, max_batch=2000, target_batch_ms=500))
    assert fast.batch_size > 10  # quick batches grow
    slow = BackfillEngine(PgConnector(table)).run(
        Backfill(name="test/slow", table="bf", key=("g", "ts", "id"), batch_path="bf/slow_hit.batch.sql",
                 initial_batch=400, min_batch=200, max_batch=400, target_batch_ms=5)
    )
    assert slow.batch_size == 200  # batches slower than the target shrink (down to min_batch)


def test_a_batch_that_hits_the_statement_timeout_is_split_not_repeated(table: str, tmp_path: Path) -> None:
    """The first 100 rows are slow (15 ms each): a 400-row batch cannot finish in 0.3 s, halves are tried."""
    (tmp_path / "sql" / "bf" / "slow_g0.batch.sql").write_text(
        "UPDATE bf SET hits = hits + 1 WHERE /*{{batch}}*/ true\n"
        "  AND CASE WHEN g = 0 THEN pg_sleep(0.015)::text = '' ELSE true END;\n"
    )
    settings = BackfillSettings(statement_timeout_s=0.3)
    stuck = spec("slow_g0", initial_batch=400, min_batch=200, max_batch=400)
    with pytest.raises(DboptError, match=r"even a batch of 200 rows within its statement timeout of 0.3 s"):
        BackfillEngine(PgConnector(table), settings=settings).run(stuck)
    assert hits(table) == {0: ROWS}  # the timed-out batches were rolled back
    report = BackfillEngine(PgConnector(table), settings=settings).run(
        Backfill(**{**stuck.__dict__, "name": "test/slow_g0_split", "min_batch": 5})
    )
    assert report.timeout_splits >= 1
    assert hits(table) == {1: ROWS}


@pytest.fixture
def dml_only_url(table: str):
    """A login role with DML grants only (no pg_monitor / pg_read_all_stats), as many application roles are."""
    import uuid

    role = f"dbopt_dml_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(table, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, dbopt TO {role}")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON bf, dbopt.backfill_progress TO {role}")
    yield psycopg.conninfo.make_conninfo(table, user=role)
    with psycopg.connect(table, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_a_role_that_cannot_see_other_sessions_makes_the_backfill_careful_not_blind(
    table: str, dml_only_url: str, caplog
) -> None:
    """Without pg_read_all_stats a long transaction reads as NULL; the backfill says so and slows down."""
    import logging

    old = psycopg.connect(table, application_name="forgotten-session")
    old.execute("SELECT 1")  # idle in transaction, invisible to the DML-only role
    settings = BackfillSettings(blind_max_batch=50, blind_pause_ratio=1.0)
    try:
        with caplog.at_level(logging.WARNING, logger="dbopt.backfill"):
            report = BackfillEngine(PgConnector(dml_only_url), settings=settings).run(spec("hit", max_batch=200))
    finally:
        old.close()
    role = psycopg.conninfo.conninfo_to_dict(dml_only_url)["user"]
    assert report.blind and "pg_read_all_stats" in report.blind and role in report.blind
    from pipelines.postgres_steps import backfill_metadata

    assert "no: role" in backfill_metadata(report)["throttle_sees_other_sessions"].value
    assert any("health throttle is blind" in r.getMessage() for r in caplog.records)
    assert report.batch_size <= 50 and report.paused_s > 0
    assert hits(table) == {1: ROWS}
    # A role that can see (here the superuser) keeps its normal pace.
    seeing = BackfillEngine(PgConnector(table)).run(spec("hit", max_batch=200), ranges=uuid_ranges(1))
    assert seeing.blind is None


def test_the_eta_comes_from_the_catalog_not_a_count_of_the_table(table: str) -> None:
    """The ETA is pg_class.reltuples times the ranges' share (a count(*) scanned the table on every run)."""
    from dbopt.postgres.backfill import _share

    report = BackfillEngine(PgConnector(table)).run(spec("hit"))
    assert report.rows == ROWS
    assert sum(_share(r) for r in uuid_ranges(16)) == 1.0
    assert _share(uuid_ranges(16)[3]) == 1 / 16


def _analyzed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE bf")  # the engine spaces its VACUUMs by the planner's row count


def _manual_vacuums(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'bf'::regclass").fetchone()[0]


def test_vacuums_as_it_goes_and_a_long_transaction_does_not_hold_it_up(table: str) -> None:
    """A snapshot older than the walk keeps every dead version alive; VACUUM frees less but never waits for it."""
    _analyzed(table)
    old = psycopg.connect(table, application_name="long-reader")
    old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    old.execute("SELECT count(*) FROM bf").fetchone()  # holds its snapshot from here on
    try:
        report = BackfillEngine(PgConnector(table), settings=BackfillSettings(vacuum_every_fraction=0.25)).run(
            spec("hit", max_batch=200)
        )
        assert old.execute("SELECT count(*) FROM bf WHERE hits = 0").fetchone()[0] == ROWS  # still its old snapshot
    finally:
        old.close()
    assert hits(table) == {1: ROWS}
    assert report.vacuums >= 3 and report.vacuums_skipped == 0


def test_a_vacuum_that_cannot_get_its_lock_is_skipped_and_the_backfill_goes_on(table: str, caplog) -> None:
    """Another maintenance command (here a held SHARE UPDATE EXCLUSIVE lock) makes VACUUM give up at lock_timeout."""
    import logging

    _analyzed(table)
    vacuums_before = _manual_vacuums(table)
    holder = psycopg.connect(table)
    holder.execute("LOCK TABLE bf IN SHARE UPDATE EXCLUSIVE MODE")  # what autovacuum or an index build holds
    try:
        with caplog.at_level(logging.WARNING, logger="dbopt.backfill"):
            report = BackfillEngine(
                PgConnector(table), settings=BackfillSettings(vacuum_every_fraction=0.5, lock_timeout_ms=100)
            ).run(spec("hit", max_batch=200))
    finally:
        holder.close()
    assert hits(table) == {1: ROWS}
    assert report.vacuums == 0 and report.vacuums_skipped >= 1
    assert any("VACUUM bf skipped (canceling statement due to lock timeout)" in r.getMessage() for r in caplog.records)
    assert _manual_vacuums(table) == vacuums_before


def test_no_vacuum_when_it_is_switched_off(table: str) -> None:
    _analyzed(table)
    report = BackfillEngine(PgConnector(table), settings=BackfillSettings(vacuum_every_fraction=0)).run(spec("hit"))
    assert hits(table) == {1: ROWS}
    assert report.vacuums == 0 and report.vacuums_skipped == 0


def test_every_batch_runs_under_its_timeouts_and_planner_settings_set_for_it_alone(table: str, tmp_path: Path) -> None:
    """The batch's SET LOCALs go in one round trip; the batch sees them all, the session after it none."""
    with psycopg.connect(table, autocommit=True) as conn:
        conn.execute("CREATE TABLE seen (lock_timeout text, statement_timeout text, synchronous_commit text, "
                     "seqscan text, hashjoin text, mergejoin text)")
    (tmp_path / "sql" / "bf" / "seen.batch.sql").write_text(
        "INSERT INTO seen SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), "
        "current_setting('synchronous_commit'), current_setting('enable_seqscan'), current_setting('enable_hashjoin'), "
        "current_setting('enable_mergejoin');\n"
        "UPDATE bf SET hits = hits + 1 WHERE /*{{batch}}*/ true;\n"
    )
    settings = BackfillSettings(lock_timeout_ms=321, statement_timeout_s=7)
    report = BackfillEngine(PgConnector(table), settings=settings).run(spec("seen", max_batch=500))
    careful = BackfillEngine(PgConnector(table), settings=BackfillSettings(synchronous_commit=True)).run(
        Backfill(**{**spec("seen", max_batch=500).__dict__, "name": "test/seen_synchronously"})
    )
    with psycopg.connect(table) as conn:
        rows = conn.execute("SELECT *, count(*) FROM seen GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1").fetchall()
    assert rows == [("321ms", "7s", "off", "off", "off", "off", report.batches),
                     ("500ms", "1min", "on", "off", "off", "off", careful.batches)]
    assert hits(table) == {2: ROWS}
