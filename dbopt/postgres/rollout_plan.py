"""The plan of phase1_postgres before it runs, and its receipt after: per step of
`phase1.forward_steps()` what it changes, the lock it takes, the rows it touches, a
predicted duration as a range and the disk it needs.

Calibrated on this database, not taken from constants: the plan copies a sample (random
whole conversations with their members and messages, random pages of posts and
attachments) into a scratch schema and replays every step that is still to do on it, in
the job's order, with the steps' own SQL files: DDL as written, indexes without
CONCURRENTLY, each backfill's batches through the backfill engine's own keyset walk and
batch SQL. Each step is timed and its table and WAL growth measured, then scaled to this
database's row counts. All of it happens in one transaction that is always rolled back:
the application's tables are only read (ACCESS SHARE, which no writer waits for), and no
object of the sample is ever committed. The transaction runs under the resource's
lock_timeout and the plan's statement_timeout, so it never waits long for anyone either.

Backfills: the sample's batches (of several sizes) fit seconds = a + b x rows; the real
run's batch size is where a + b x size meets target_batch_ms, as the engine adapts it,
plus a measured round trip per batch for its checkpoint and commit. Index builds and
VALIDATE scale with rows (index sorts with n log n); catalog-only DDL does not scale, and
every step adds the runner's measured overhead (two connections, a few round trips).
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from dbopt import rollout_plan_common, sqlfiles
from dbopt.errors import DboptError
from dbopt.postgres import ledger, phase1, session, sqlrun
from dbopt.postgres.backfill import KEY_RANGES, Backfill, BackfillEngine, BackfillSettings
from dbopt.postgres.connect import PgConnector
from dbopt.postgres.health import ThrottleSettings, reasons_to_pause
from dbopt.postgres.runner import ConcurrentIndex, Sql
from dbopt.preflight import human_bytes
from dbopt.rollout_plan_common import PlanTotals

DIR = "postgres/postgres_plan"
TABLES = ("conversations", "conversation_members", "messages", "message_attachments", "posts")
RANGE = (0.75, 1.35)  # the predicted range around the point estimate
RECEIPT_STEP = "postgres_plan/receipt"
# Not a step of phase1.py but part of the job's time: the blocking checks after each asset
# (full scans of messages by the sequence-number checks, Great Expectations suites) and
# Dagster's own work per step. The checks' queries are timed on the sample after every step
# is replayed there (sql/postgres/checks/, full scope, as a first run reads them) and scaled
# with the messages; Dagster's own work per asset and per check step and Great Expectations'
# start in the process are constants fitted on this machine (docs/postgres.md, `## postgres_plan`),
# and CHECK_S_PER_MESSAGE is used only when the checks could not be timed.
ORCHESTRATION = "checks and orchestration"
ASSET_STEPS, CHECK_STEPS = 11, 10  # phase1_postgres after the plan (a multi-check is one step)
ASSET_OVERHEAD_S, CHECK_OVERHEAD_S, GX_START_S, CHECK_S_PER_MESSAGE = 0.05, 0.05, 22.0, 8e-6
CHECKS_DIR = "postgres/checks"
# The backfills' sample batches, as fractions of the sample's table: sizes spread enough to fit a + b x rows.
SAMPLE_DIVISORS = (40, 10, 4)
PAGE = 8192
ANALYZE_ROWS = 30_000  # 300 x default_statistics_target (100)
READ_PAGES = 2_000  # pages of a rewritten table read to time what its VACUUMs cost per byte


@dataclass(frozen=True)
class PlanSettings:
    """How much the plan samples, and how patient it is; checked before anything connects."""

    sample_rows: int = 40_000  # messages copied into the sample (conversations in proportion)
    statement_timeout_s: float = 60.0
    lock_timeout_ms: int = 500
    target_batch_ms: int = 50  # the backfills' target, as in BackfillConfig
    ddl_attempts: int = 8

    def check(self) -> None:
        bounds = {"sample_rows": (1_000, 2_000_000), "statement_timeout_s": (1, 3600), "lock_timeout_ms": (50, 10_000),
                  "target_batch_ms": (1, 10_000), "ddl_attempts": (1, 100)}
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise DboptError(
                    f"Nothing was sampled: {name} in the config of postgres_plan is {value!r} but must be between "
                    f"{low:,} and {high:,}; fix it in the run's config and launch the run again."
                )


@dataclass
class StepPlan:
    step: str
    asset: str
    kind: str  # ddl | index | backfill
    changes: str
    lock: str
    writers_wait: str
    rows: int
    seconds: float
    low_s: float
    high_s: float
    disk_bytes: int
    wal_bytes: int
    basis: str
    todo: bool = True
    index_bytes: int = 0  # predicted size of the index the step builds
    batches: int = 0  # a backfill's batches, over every key range
    vacuums: int = 0  # the backfill engine's VACUUMs of the table during the backfill

    def row(self) -> dict[str, Any]:
        return {"step": self.step, "asset": self.asset, "changes": self.changes, "lock": self.lock,
                "writers wait": self.writers_wait, "rows": self.rows,
                "predicted": f"{self.low_s:,.1f}-{self.high_s:,.1f} s" if self.todo else "nothing to do",
                "disk": human_bytes(self.disk_bytes), "WAL": human_bytes(self.wal_bytes), "basis": self.basis}


@dataclass
class Calibration:
    """What was measured here, and how long measuring took."""

    sample_rows: dict[str, int]
    table_rows: dict[str, int]
    connect_s: float
    roundtrip_s: float
    backfill_fit: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    sample_total: dict[str, int] = field(default_factory=dict)  # the sample's tables with their indexes, as copied
    checks_s: float = 0.0  # the checks' queries, timed on the sample after every step
    health_s: float = 0.0  # one of the backfill engine's health checks (pg_locks, pg_stat_activity)
    read_s_per_byte: dict[str, float] = field(default_factory=dict)  # a timed read of the table's pages here


@dataclass
class Plan(PlanTotals):
    steps: list[StepPlan]
    calibration: Calibration

    @property
    def wal_bytes(self) -> int:
        return sum(s.wal_bytes for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "wal_bytes": self.wal_bytes, "notes": self.notes}


# --- locks, read from the SQL ---------------------------------------------------------------

_NAME = r"(?:ONLY\s+)?(?P<table>[\w.\"]+)"
_LOCK_RULES: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b.*?\bON\s+" + _NAME, re.I | re.S),
     "SHARE UPDATE EXCLUSIVE", False),
    (re.compile(r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?" + _NAME + r"\s+VALIDATE\s+CONSTRAINT", re.I | re.S),
     "SHARE UPDATE EXCLUSIVE", False),
    (re.compile(r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?" + _NAME, re.I | re.S), "ACCESS EXCLUSIVE", True),
    (re.compile(r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\b.*?\bON\s+" + _NAME, re.I | re.S),
     "SHARE ROW EXCLUSIVE", True),
    (re.compile(r"^DROP\s+TRIGGER\b.*?\bON\s+" + _NAME, re.I | re.S), "ACCESS EXCLUSIVE", True),
    (re.compile(r"^(?:ANALYZE|VACUUM)\b(?:\s*\([^)]*\))?(?:\s+(?:VERBOSE|ANALYZE|FULL|FREEZE))*\s+" + _NAME,
                re.I | re.S), "SHARE UPDATE EXCLUSIVE", False),
]


def _body(statement: str) -> str:
    return "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()


def statement_lock(statement: str) -> tuple[str, str, bool] | None:
    """(mode, table, writers wait) of the table lock a statement takes; None for none on a table."""
    body = _body(statement)
    for pattern, mode, blocks in _LOCK_RULES:
        match = pattern.match(body)
        if match:
            table = match["table"].replace('"', "").split(".")[-1]
            if body.upper().startswith("VACUUM FULL"):
                return "ACCESS EXCLUSIVE", table, True
            return mode, table, blocks
    return None


def _scans(statement: str) -> str | None:
    """The table a statement reads whole (VALIDATE, ANALYZE, VACUUM), so its time scales with rows."""
    body = _body(statement)
    match = re.match(r"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?" + _NAME + r"\s+VALIDATE\s+CONSTRAINT", body, re.I | re.S)
    if match:
        return match["table"].split(".")[-1]
    match = re.match(r"^(?:ANALYZE|VACUUM)\b.*?(?P<table>\w+)\s*;?\s*$", body, re.I | re.S)
    return match["table"] if match else None


def _changes(step: Sql | ConcurrentIndex | Backfill) -> str:
    """The first comment line of the step's SQL file: what it changes, in its author's words."""
    text = sqlfiles.read(step.batch_path if isinstance(step, Backfill) else step.path)
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("--") and "squawk" not in line and "params:" not in line and "already-applied-if" not in line:
            first = line.lstrip("- ").strip()
            return re.sub(r"^Phase 1\.1,\s*", "", first)
    return step.name


# --- measuring ------------------------------------------------------------------------------


@dataclass
class _Measured:
    seconds: float = 0.0
    scaled_seconds: float = 0.0  # the part of `seconds` that scales with rows, already scaled
    wal: int = 0
    growth: dict[str, int] = field(default_factory=dict)  # table -> bytes grown on the sample
    index_bytes: int = 0
    batches: list[tuple[int, int, float]] = field(default_factory=list)
    failed: str | None = None
    skipped: str | None = None
    extra_per_row: float = 0.0  # what a row costs more in the application's table than in the sample
    before: dict[str, int] = field(default_factory=dict)  # the sample's table bytes when the step starts
    gin: GinModel | None = None  # how a GIN index over a tsvector grows (any other index: with the rows)
    total_before: int = 0  # the sample's walked table with its indexes when a backfill starts


def _sizes(conn: psycopg.Connection, scratch: str, indexes: bool = False) -> dict[str, int]:
    """Bytes of each of the sample's tables (heap and TOAST; with `indexes`, theirs too)."""
    rows = sqlrun.query_file(conn, f"{DIR}/030_figures.sql", {"tables": [f"{scratch}.{t}" for t in TABLES]})
    return {r["table"].split(".")[-1]: int(r["bytes"]) + (int(r["index_bytes"]) if indexes else 0) for r in rows}


def _wal(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint").fetchone()[0])


def _strip_concurrently(text: str) -> str:
    """The build as one transaction can run it: the same index, built without CONCURRENTLY."""
    return re.sub(r"(\bINDEX\s+)CONCURRENTLY\s+", r"\1", sqlfiles.split(text)[0], count=1, flags=re.I)


def _replay(conn: psycopg.Connection, scratch: str, step: Sql | ConcurrentIndex | Backfill, engine: BackfillEngine,
            scale: Callable[[str, bool], float], sample_rows: Callable[[str], int]) -> _Measured:
    """Run one step on the sample, in a savepoint; its time, WAL and growth of the sample's tables."""
    m = _Measured()
    before, wal0 = _sizes(conn, scratch), _wal(conn)
    m.before = before
    try:
        with conn.transaction():
            if isinstance(step, Backfill):
                m.total_before = _sizes(conn, scratch, indexes=True).get(step.table, 0)
                total = sample_rows(step.table)
                walked = 0
                for size, n, secs in engine.sample(conn, step, [max(10, total // d) for d in SAMPLE_DIVISORS]):
                    size = size if size is not None else max(total - walked, 1)  # the last batch: what was left
                    walked += size
                    m.batches.append((size, n, secs))
                m.seconds = sum(b[2] for b in m.batches)
            elif isinstance(step, ConcurrentIndex):
                index, table = step.target()
                t0 = time.perf_counter()
                conn.execute(_strip_concurrently(step.text()))
                m.seconds = time.perf_counter() - t0
                size = sqlrun.query_file(conn, f"{DIR}/050_index_size.sql", {"scratch": scratch, "index": index})[0]
                live = sample_rows(table.split(".")[-1])
                # Per live row: the real build indexes each row once, not the sample's dead versions.
                m.index_bytes = int(size["bytes"] * min(1.0, live / size["entries"]) if size["entries"] else size["bytes"])
                if size["entries"] is None:  # not a btree: how it grows with rows, from a build on half the rows
                    m.gin = _gin_model(conn, scratch, index, table.split(".")[-1], size["bytes"])
            else:
                names = sqlfiles.param_names(step.text())
                for stmt in sqlfiles.split(step.text()):
                    if _body(stmt).upper().startswith("VACUUM"):
                        m.skipped = "VACUUM cannot run in the sample's transaction; predicted as a read of the table"
                        table = _scans(stmt) or "messages"
                        m.scaled_seconds += _read_seconds(conn, scratch, table) * scale(table, False)
                        continue
                    t0 = time.perf_counter()
                    sqlrun.execute(conn, stmt, names, {})
                    took = time.perf_counter() - t0
                    table = _scans(stmt)
                    if table:
                        m.scaled_seconds += took * scale(table, _body(stmt).upper().startswith("ANALYZE"))
                    else:
                        m.seconds += took
    except psycopg.Error as exc:
        m.failed = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return m
    after = _sizes(conn, scratch)
    m.wal = _wal(conn) - wal0
    m.growth = {t: after.get(t, 0) - before.get(t, 0) for t in after if after.get(t, 0) > before.get(t, 0)}
    return m


@dataclass(frozen=True)
class GinModel:
    """A GIN index over a tsvector: bytes = per_posting x postings + per_key x keys, fitted on the
    sample's build and a second build on half its rows; postings grow with the rows, keys
    (distinct lexemes) as rows ** keys_exponent, as the two builds' rows showed."""

    per_posting: float
    per_key: float
    postings: int  # the sample's
    keys: int  # the sample's
    keys_exponent: float

    def bytes_for(self, scale: float) -> int:
        return int(self.per_posting * self.postings * scale + self.per_key * self.keys * scale ** self.keys_exponent)


def _gin_model(conn: psycopg.Connection, scratch: str, index: str, table: str, full_bytes: int) -> GinModel | None:
    """The GinModel of a GIN index over a tsvector the sample built; None for any other index or
    when the second build or the fit fails (then the size scales with the rows)."""
    key = "id"
    found = sqlrun.query_file(conn, f"{DIR}/110_half_index.sql", {"scratch": scratch, "index": index, "key": key})
    if not found:
        return None
    column = found[0]["column"]
    half_filter = f"(hashtext({key}::text) & 1) = 0"
    counts = (f'SELECT count(DISTINCT m.{key}), count(*), count(DISTINCT u.lexeme) '  # noqa: S608 - our own names
              f'FROM "{scratch}"."{table}" AS m, unnest(m."{column}") AS u')
    try:
        with conn.transaction(force_rollback=True):  # the half build goes with its savepoint
            conn.execute(found[0]["ddl"])
            half = sqlrun.query_file(conn, f"{DIR}/050_index_size.sql", {"scratch": scratch, "index": found[0]["half"]})[0]
            rows1, postings1, keys1 = conn.execute(counts).fetchone()
            rows2, postings2, keys2 = conn.execute(f"{counts} WHERE m.{half_filter}").fetchone()
    except psycopg.Error:
        return None
    det = postings1 * keys2 - postings2 * keys1
    if not half["bytes"] or not rows2 or rows2 >= rows1 or keys2 >= keys1 or not det:
        return None
    per_posting = (full_bytes * keys2 - half["bytes"] * keys1) / det
    per_key = (postings1 * half["bytes"] - postings2 * full_bytes) / det
    if per_posting <= 0 or per_key < 0:
        return None
    exponent = min(1.0, max(0.0, math.log(keys1 / keys2) / math.log(rows1 / rows2)))
    return GinModel(per_posting, per_key, int(postings1), int(keys1), exponent)


def _checks_seconds(conn: psycopg.Connection) -> float:
    """Every check query of the rollout (full scope: every row), counted as the checks count
    them, on the sample (first in search_path) with the planner's defaults; each in a savepoint
    rolled back. 0.0 when one fails (the sample lacks what it reads)."""
    took = 0.0
    for path in sorted(sqlfiles.sql_path(CHECKS_DIR).rglob("*.sql")):
        try:
            query = sqlfiles.load(path.relative_to(sqlfiles.sql_path("")).as_posix()).strip().rstrip(";")
            with conn.transaction(force_rollback=True):
                # The backfills' replays leave their SET LOCALs (no seqscan, no hash join) in force.
                conn.execute("SET LOCAL enable_seqscan = on; SET LOCAL enable_hashjoin = on; "
                             "SET LOCAL enable_mergejoin = on")
                t0 = time.perf_counter()
                conn.execute(f"SELECT count(*) FROM ({query}) AS offending").fetchone()  # noqa: S608 - our own SQL files
                took += time.perf_counter() - t0
        except (psycopg.Error, DboptError):
            return 0.0
    return took


def _read_seconds(conn: psycopg.Connection, scratch: str, table: str) -> float:
    t0 = time.perf_counter()
    conn.execute(f'SELECT count(*) FROM "{scratch}"."{table}"')  # noqa: S608 - our own scratch names
    return time.perf_counter() - t0


def _read_rate(conn: psycopg.Connection, table: str, figures: dict[str, int]) -> float:
    """Seconds per byte of a timed read of READ_PAGES random pages of the application's table."""
    pages = max(figures["pages"], 1)
    pct = 100.0 * min(1.0, READ_PAGES / pages)
    t0 = time.perf_counter()
    sqlrun.query_file(conn, f"{DIR}/100_read_pages.sql", {"pct": pct}, render={"table": table})
    return (time.perf_counter() - t0) / max(pages * pct / 100 * PAGE, PAGE)


def engine_walk(rows: int, size: float, rewritten_share: float, every: int,
                ranges: int = len(KEY_RANGES)) -> tuple[int, int]:
    """(batches, VACUUMs) of the backfill engine's walk: one walk per key range, each of at
    least one batch (its last, shorter one); a VACUUM each time `every` rows have been
    rewritten, counted across ranges, as `BackfillEngine._run_range` does."""
    per_range = rows / ranges
    size = max(size, 1.0)
    batches = vacuums = 0
    since = 0.0
    for _ in range(ranges):
        left = per_range
        while True:
            walked = min(size, left)
            left -= walked
            batches += 1
            since += walked * rewritten_share
            if every and since >= every:
                vacuums += 1
                since = 0.0
            if left <= 0:
                break
    return batches, vacuums


def _median_time(fn: Callable[[], object], times: int) -> float:
    took = []
    for _ in range(times):
        t0 = time.perf_counter()
        fn()
        took.append(time.perf_counter() - t0)
    return statistics.median(took)


def _fit(batches: Sequence[tuple[int, int, float]]) -> tuple[float, float]:
    """seconds = a + b x rows over the sample's full batches (least squares); (a, b)."""
    points = [(float(size), secs) for size, _rows, secs in batches if size]
    if len(points) < 2 or len({p[0] for p in points}) < 2:
        rows = sum(p[0] for p in points) or 1.0
        return 0.0, sum(p[1] for p in points) / rows
    mx = statistics.fmean(p[0] for p in points)
    my = statistics.fmean(p[1] for p in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    a = my - b * mx
    if b <= 0:  # noise on a tiny sample: all time per row
        return 0.0, sum(p[1] for p in points) / sum(p[0] for p in points)
    return max(a, 0.0), b


REGIME_SIZES = (100, 400)  # small batches: each holds its row locks for a few tens of ms
REGIME_ROWS = 2_000


def _regime(conn: psycopg.Connection, engine: BackfillEngine, backfills: Sequence[Backfill], scratch: str,
            qualify: Callable[[str], str]) -> dict[tuple[str, tuple[str, ...], str], float]:
    """Per (table, key, kind): seconds per row of a neutral rewrite / a read of the rows of a few
    of the backfill's batches over the sample's table, in the tables `qualify` names (the
    application's, or the sample's): the same walk, the rows where they live."""
    out: dict[tuple[str, tuple[str, ...], str], float] = {}
    for spec in backfills:
        for kind, file in (("rewrite", "080_rewrite.batch.sql"), ("read", "090_read.batch.sql")):
            key = (spec.table, spec.key, kind)
            if key in out:
                continue
            probe = Backfill(name=f"postgres_plan/{kind}", table=f"{scratch}.{spec.table}", key=spec.key,
                             batch_path=f"{DIR}/{file}",
                             render={"table": f"{scratch}.{spec.table}", "target": qualify(spec.table)})
            batches = engine.sample(conn, probe, REGIME_SIZES, max_rows=REGIME_ROWS, rollback_each=True)
            out[key] = _fit([(size, n, secs) for size, n, secs in batches if size])[1]
    return out


# --- the plan ---------------------------------------------------------------------------------


def applied_steps(conn: psycopg.Connection, steps: Sequence[Sql | ConcurrentIndex | Backfill]) -> set[str]:
    """Steps the ledger records as applied with today's SQL: the job would skip them."""
    if not ledger.installed(conn):
        return set()
    done = set()
    for step in steps:
        if isinstance(step, Sql) and step.rerun:
            # Runs whenever its guard says there is something to do (ANALYZE: after a change).
            guard = step.guard()
            if guard and conn.execute(guard).fetchone()[0]:
                done.add(step.name)
            continue
        checksum = step.checksum() if isinstance(step, Backfill) else sqlfiles.checksum(step.text())
        entry = ledger.latest_applied(conn, step.name)
        if entry is not None and entry.checksum == checksum:
            done.add(step.name)
    return done


def table_figures(conn: psycopg.Connection) -> dict[str, dict[str, int]]:
    rows = sqlrun.query_file(conn, f"{DIR}/030_figures.sql", {"tables": list(TABLES)})
    return {r["table"]: {"rows": int(r["rows"]), "pages": int(r["pages"]), "bytes": int(r["bytes"]),
                         "index_bytes": int(r["index_bytes"])} for r in rows}


def compute(connector: PgConnector, *, ts_literal: str = "'simple'::regconfig",
            settings: PlanSettings | None = None, full_checks: bool = False) -> Plan:
    """The plan for phase1_postgres on this database, calibrated here on a rolled-back sample;
    `full_checks`: the run reads every row through Great Expectations (tag dbopt/checks=full)."""
    settings = settings or PlanSettings()
    settings.check()
    started = time.perf_counter()
    ordered = phase1.forward_steps(ts_literal)
    conn = connector.dedicated(autocommit=True)
    try:
        session.name_session(conn, "postgres_plan")
        figures = table_figures(conn)
        missing = [t for t in TABLES if t not in figures]
        if missing:
            raise DboptError(f"{', '.join(missing)} missing from the database; seed the baseline (`dbopt seed`) or "
                             f"point DATABASE_URL at the application's database.")
        done = applied_steps(conn, [s for _, s in ordered])
        connect_s = _median_time(lambda: connector.dedicated(autocommit=True).close(), 3)
        roundtrip_s = _median_time(lambda: conn.execute("SELECT 1").fetchone(), 7)
        health_s = _median_time(lambda: reasons_to_pause(conn, list(TABLES[:3]), ThrottleSettings()), 5)
        cal = Calibration({}, {t: f["rows"] for t, f in figures.items()}, connect_s, roundtrip_s, health_s=health_s)
        todo = [(a, s) for a, s in ordered if s.name not in done]
        measured: dict[str, _Measured] = {}
        if any(not (isinstance(s, Sql) and s.rerun) for _, s in todo):
            measured = _sample(connector, conn, todo, figures, settings, cal)
    finally:
        conn.close()
    steps = [_step_plan(asset, step, step.name not in done, measured.get(step.name), figures, cal, settings)
             for asset, step in ordered]
    steps.append(_orchestration(figures, any(s.todo for s in steps), full_checks, cal))
    cal.seconds = time.perf_counter() - started
    notes = sorted({f"{s.step}: {m.failed}" for s in steps if (m := measured.get(s.step)) and m.failed})
    return Plan(steps, cal, notes)


def _sample(connector: PgConnector, conn: psycopg.Connection, todo: Sequence[tuple[str, Sql | ConcurrentIndex | Backfill]],
            figures: dict[str, dict[str, int]], settings: PlanSettings, cal: Calibration) -> dict[str, _Measured]:
    scratch = f"dbopt_plan_scratch_{uuid.uuid4().hex[:8]}"
    messages = max(figures["messages"]["rows"], 1)
    share = min(1.0, settings.sample_rows / messages)
    conv_share = min(1.0, share * 1.1)  # a few more conversations: the capped hot one holds fewer messages
    cap = max(100, settings.sample_rows // 10)
    engine = BackfillEngine(connector, settings=BackfillSettings(
        lock_timeout_ms=settings.lock_timeout_ms, statement_timeout_s=settings.statement_timeout_s))
    measured: dict[str, _Measured] = {}
    # The whole sample is one transaction, rolled back whatever happens (force_rollback).
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                     (f"{int(settings.statement_timeout_s * 1000)}ms", f"{settings.lock_timeout_ms}ms"))
        try:
            backfills = [s for _, s in todo if isinstance(s, Backfill)]
            qualified = {t: conn.execute("SELECT to_regclass(%s)::text", (t,)).fetchone()[0] for t in TABLES}
            for table in sorted({b.table for b in backfills}):
                cal.read_s_per_byte[table] = _read_rate(conn, qualified[table], figures[table])
            if not conn.execute("SELECT to_regnamespace('dbopt') IS NOT NULL").fetchone()[0]:
                conn.execute("CREATE SCHEMA dbopt")  # for the trigger functions; rolled back with the rest
            sqlrun.run_file(conn, f"{DIR}/010_scratch.sql", render={"scratch": scratch})
            sqlrun.run_file(conn, f"{DIR}/020_sample.sql", {
                "conversations_pct": 100 * conv_share, "messages_cap": cap,
                "posts_pct": 100 * min(1.0, settings.sample_rows / max(figures["posts"]["rows"], 1)),
                "attachments_pct": 100 * min(1.0, settings.sample_rows / max(figures["message_attachments"]["rows"], 1)),
            }, render={"scratch": scratch})
            for t in TABLES:
                conn.execute(f'ANALYZE "{scratch}"."{t}"')
            counts = {r["table"]: int(r["rows"]) for r in sqlrun.query_file(
                conn, f"{DIR}/040_counts.sql", render={"scratch": scratch})}
            cal.sample_rows = counts
            # The sample's rows first (which also brings the walk over the sample into memory),
            # then the same rows in the application's tables.
            sampled = _regime(conn, engine, backfills, scratch, lambda t: f"{scratch}.{t}")
            real = _regime(conn, engine, backfills, scratch, lambda t: qualified[t])
            initial = _sizes(conn, scratch)
            cal.sample_total = _sizes(conn, scratch, indexes=True)
            path = conn.execute("SELECT current_setting('search_path')").fetchone()[0]
            conn.execute("SELECT set_config('search_path', %s, true)", (f'"{scratch}", {path}',))

            def scale(table: str, analyze: bool = False) -> float:
                big, small = figures.get(table, {}).get("rows", 0), max(counts.get(table, 0), 1)
                if analyze:  # ANALYZE reads a sample of at most 300 x default_statistics_target rows
                    big, small = min(big, ANALYZE_ROWS), min(small, ANALYZE_ROWS)
                return max(1.0, big / small)

            for _asset, step in todo:
                measured[step.name] = _replay(conn, scratch, step, engine, scale, lambda t: counts.get(t, 0))
            cal.checks_s = _checks_seconds(conn)
            for step_name, m in measured.items():
                step = next(s for _, s in todo if s.name == step_name)
                if isinstance(step, Backfill) and not m.failed:
                    a, b = _fit(m.batches)
                    kind = "rewrite" if sum(n for _, n, _ in m.batches) else "read"
                    key = (step.table, step.key, kind)
                    # Measured on the tables as they are now; by this step the earlier passes have left
                    # dead versions behind, which its walk reads too: as many as the sample's heap grew
                    # (rolled back, never vacuumed), but on the real table no more than the engine leaves
                    # between its VACUUMs (one every vacuum_every_fraction of the rows rewritten).
                    bloat = dead_versions_read(m.before.get(step.table, 0) / max(initial.get(step.table, 0), 1),
                                               engine.settings.vacuum_every_fraction)
                    m.extra_per_row = max(0.0, real[key] - sampled[key]) * bloat
                    cal.backfill_fit[step_name] = {
                        "a_ms": round(a * 1000, 3), "b_us_per_row": round(b * 1e6, 3),
                        f"{kind}_us_per_row_here": round(real[key] * 1e6, 3),
                        f"{kind}_us_per_row_sample": round(sampled[key] * 1e6, 3), "heap_versions_per_row": round(bloat, 2),
                        "sample_batches": len(m.batches)}
        except pgerrors.QueryCanceled as exc:
            raise DboptError(
                f"The plan's sample ran into its statement_timeout of {settings.statement_timeout_s:g} s "
                f"({str(exc).strip().splitlines()[0]}); lower sample_rows or raise statement_timeout_s in the config "
                f"of postgres_plan."
            ) from None
        except pgerrors.LockNotAvailable:
            raise DboptError(
                f"The plan's sample could not read the application's tables within lock_timeout "
                f"({settings.lock_timeout_ms} ms): a session holds an exclusive lock on one of them; run the plan "
                f"again when it is gone (postgres_preflight names such sessions)."
            ) from None
    return measured


def dead_versions_read(sample_growth: float, vacuum_every_fraction: float) -> float:
    """Row versions per live row a backfill's walk reads on the real table: the sample's heap
    growth, capped by what the engine's own VACUUMs leave (at most one fraction's worth of dead
    versions); without those VACUUMs, the growth itself."""
    growth = max(1.0, sample_growth)
    return min(growth, 1.0 + vacuum_every_fraction) if vacuum_every_fraction > 0 else growth


def _step_plan(asset: str, step: Sql | ConcurrentIndex | Backfill, todo: bool, m: _Measured | None,
               figures: dict[str, dict[str, int]], cal: Calibration, settings: PlanSettings) -> StepPlan:
    overhead = 2 * cal.connect_s + 8 * cal.roundtrip_s
    wait_ddl = (f"yes: at most lock_timeout ({settings.lock_timeout_ms} ms) per attempt, up to "
                f"{settings.ddl_attempts} attempts with backoff")
    if isinstance(step, Backfill):
        table = step.table
        rows = figures[table]["rows"]
        lock = f"row locks on {table} (FOR NO KEY UPDATE / UPDATE of the batch's rows)"
        writers = (f"only writers of the batch's rows, for one batch (~{settings.target_batch_ms} ms; "
                   f"lock_timeout {settings.lock_timeout_ms} ms)")
        kind = "backfill"
    elif isinstance(step, ConcurrentIndex):
        _index, table = step.target()
        table = table.split(".")[-1]
        rows = figures.get(table, {}).get("rows", 0)
        lock = f"SHARE UPDATE EXCLUSIVE on {table} (CREATE INDEX CONCURRENTLY)"
        writers = "no: reads and writes continue; the build waits for older transactions"
        kind = "index"
    else:
        locks = [lk for stmt in sqlfiles.split(step.text()) if (lk := statement_lock(stmt))]
        tables = sorted({lk[1] for lk in locks})
        rows = sum(figures.get(t, {}).get("rows", 0) for t in tables if any(_scans(s) == t for s in
                                                                            sqlfiles.split(step.text())))
        if locks:
            strongest = max(locks, key=lambda lk: _MODES.index(lk[0]))
            lock = ", ".join(sorted({f"{mode} on {t}" for mode, t, _ in locks}))
            writers = wait_ddl if strongest[2] else "no: SHARE UPDATE EXCLUSIVE lets reads and writes continue"
        else:
            lock, writers = "none on the application's tables (functions in schema dbopt)", "no"
        kind = "ddl"
    base = StepPlan(step.name, asset, kind, _changes(step), lock, writers, rows, 0.0, 0.0, 0.0, 0, 0, "", todo)
    if not todo:
        base.changes = "nothing to do: applied (the ledger records it with today's SQL)"
        base.basis = "ledger"
        return base
    if m is None:
        base.seconds = overhead
        base.basis = "runs every time; statistics only"
        _range(base)
        return base
    if m.failed:
        base.basis = f"not measured: the sample could not run it ({m.failed})"
        base.seconds = overhead
        _range(base)
        return base
    ratio = {t: max(1.0, figures[t]["rows"] / max(cal.sample_rows.get(t, 0), 1)) for t in TABLES}
    if kind == "backfill":
        a, b = _fit(m.batches)
        b += m.extra_per_row
        per_batch = a + 2 * cal.roundtrip_s  # + checkpoint UPDATE and COMMIT
        target = settings.target_batch_ms / 1000
        size = (target - a) / b if b > 0 else float(step.max_batch)
        size = min(float(step.max_batch), max(float(step.min_batch), size))
        # The engine walks each key range on its own (a batch at least per range), checks the
        # database's health at the start of each and every health_every_s, and VACUUMs the table
        # each vacuum_every_fraction of its rows rewritten (each a read of the table and its
        # indexes as they are by then, at the rate a timed read of its pages showed here).
        engine_settings = BackfillSettings()
        walked = sum(size_ or 0 for size_, _, _ in m.batches) or 1
        rewritten_share = min(1.0, sum(n for _, n, _ in m.batches) / walked)
        every = (max(step.min_batch, int(rows * engine_settings.vacuum_every_fraction))
                 if engine_settings.vacuum_every_fraction > 0 and rows else 0)
        batches, vacuums = engine_walk(rows, size, rewritten_share, every)
        walk_s = rows * b + batches * per_batch
        ranges = len(KEY_RANGES)
        health_s = (ranges + walk_s / engine_settings.health_every_s) * cal.health_s
        initial = figures[table]["bytes"] + figures[table].get("index_bytes", 0)
        growth = m.total_before / max(cal.sample_total.get(table, 0), 1) if m.total_before else 1.0
        vacuum_each = cal.read_s_per_byte.get(table, 0.0) * initial * max(1.0, growth)
        base.seconds = walk_s + ranges * 4 * cal.roundtrip_s + health_s + vacuums * vacuum_each + overhead
        base.batches, base.vacuums = batches, vacuums
        base.basis = (f"{len(m.batches)} sample batches on {cal.sample_rows.get(step.table, 0):,} rows: "
                      f"{a * 1000:.2f} ms + {(b - m.extra_per_row) * 1e6:.2f} us/row, + {m.extra_per_row * 1e6:.2f} "
                      f"us/row measured on this table's own rows; ~{batches:,} batches of ~{size:,.0f} rows over "
                      f"{ranges} key ranges; {vacuums} VACUUMs of ~{vacuum_each:.2f} s")
    elif kind == "index":
        n = max(cal.sample_rows.get(table, 0), 2)
        big_n = max(rows, n)
        factor = (big_n * math.log2(big_n)) / (n * math.log2(n))
        base.seconds = m.seconds * factor + overhead
        if m.gin is None:
            base.index_bytes = int(m.index_bytes * big_n / n)
            grows = "size x rows"
        else:
            base.index_bytes = m.gin.bytes_for(big_n / n)
            grows = (f"size {m.gin.per_posting:.1f} B per posting x rows + {m.gin.per_key:.0f} B per key x "
                     f"rows^{m.gin.keys_exponent:.2f} (fitted on a second build on half the sample)")
        base.basis = (f"built on {n:,} sample rows in {m.seconds * 1000:.0f} ms, {human_bytes(m.index_bytes)}; "
                      f"time x n log n, {grows}")
    else:
        base.seconds = m.seconds + m.scaled_seconds + overhead
        base.basis = "replayed on the sample" + ("; the table scan scaled with rows" if m.scaled_seconds else "")
        if m.skipped:
            base.basis += f"; {m.skipped}"
    growth = sum(int(g * ratio.get(t, 1.0)) for t, g in m.growth.items())
    base.disk_bytes = base.index_bytes or growth
    # WAL: what the sample wrote, scaled; plus a full-page image of every page the step first
    # modifies after a checkpoint (none in the sample: its pages are new).
    wal = sum(m.wal * (ratio.get(t, 1.0) * (g / max(sum(m.growth.values()), 1))) for t, g in m.growth.items()) \
        if m.growth else m.wal
    if kind == "index":  # the build writes the whole index to WAL
        wal = m.wal * ratio.get(table, 1.0)
    if kind == "backfill":
        wal += figures[step.table]["pages"] * PAGE
    base.wal_bytes = int(wal)
    _range(base)
    return base


def _orchestration(figures: dict[str, dict[str, int]], todo: bool, full_checks: bool = False,
                  cal: Calibration | None = None) -> StepPlan:
    messages = figures["messages"]["rows"]
    sampled = cal.sample_rows.get("messages", 0) if cal else 0
    if cal and cal.checks_s and sampled:
        checks = cal.checks_s * max(1.0, messages / sampled)
        how = f"the checks' queries timed on the sample ({cal.checks_s:.2f} s) x messages"
    else:
        checks = messages * CHECK_S_PER_MESSAGE
        how = f"the checks' scans of {messages:,} messages at {CHECK_S_PER_MESSAGE * 1e6:.0f} us each (not timed here)"
    # Great Expectations starts only for the full verification (pipelines/postgres_results.py).
    point = (ASSET_STEPS * ASSET_OVERHEAD_S + CHECK_STEPS * CHECK_OVERHEAD_S + (GX_START_S if full_checks else 0.0)
             + checks)
    gx = ", Great Expectations' start" if full_checks else ""
    step = StepPlan(ORCHESTRATION, "every asset of phase1_postgres", "orchestration",
                    "nothing: the blocking checks after each asset, and Dagster's own work per step", "checks read only",
                    "no", messages, point, 0.0, 0.0, 0, 0,
                    f"{ASSET_STEPS} asset and {CHECK_STEPS} check steps{gx} (Dagster's work: constants fitted on "
                    f"this machine); {how}", todo)
    _range(step)
    return step


_MODES = ["SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]


def _range(step: StepPlan) -> None:
    step.low_s, step.high_s = step.seconds * RANGE[0], step.seconds * RANGE[1]


def format_plan(plan: Plan, title: str = "PostgreSQL plan (phase1_postgres)") -> list[str]:
    """The lines `dbopt plan` prints and the asset logs."""
    steps = [s for s in plan.steps if s.kind != "orchestration"]
    todo = [s for s in steps if s.todo]
    lines = [f"{title}: {plan.low_s:,.0f}-{plan.high_s:,.0f} s in all, {human_bytes(plan.disk_bytes)} of disk, "
             f"{human_bytes(plan.wal_bytes)} of WAL; {len(todo)} of {len(steps)} steps to do"]
    for s in plan.steps:
        if s.kind == "orchestration":
            lines.append(f"  {s.step}: {s.low_s:,.1f}-{s.high_s:,.1f} s ({s.basis})")
            continue
        if not s.todo:
            lines.append(f"  {s.step}: nothing to do (applied)")
            continue
        size = f", index {human_bytes(s.index_bytes)}" if s.index_bytes else ""
        lines.append(f"  {s.step}: {s.low_s:,.1f}-{s.high_s:,.1f} s, {s.rows:,} rows, disk "
                     f"{human_bytes(s.disk_bytes)}{size}, WAL {human_bytes(s.wal_bytes)}; lock: {s.lock}; writers "
                     f"wait: {s.writers_wait}")
    cal = plan.calibration
    if cal.sample_rows:
        sample = ", ".join(f"{n:,} {t}" for t, n in cal.sample_rows.items())
        lines.append(f"  calibrated here in {cal.seconds:.1f} s: every step still to do replayed on a sample ({sample}) "
                     f"in one transaction, rolled back")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    return lines


# --- the receipt ---------------------------------------------------------------------------


def actuals(conn: psycopg.Connection, run_id: str) -> dict[str, float]:
    """Seconds each step of a run took: the ledger's, the backfills' from their checkpoints."""
    if not ledger.installed(conn):
        return {}
    out: dict[str, float] = {}
    rows = sqlrun.query_file(conn, f"{DIR}/060_ledger_run.sql", {"run_id": run_id})
    for r in sorted(rows, key=lambda r: r["source"] == "checkpoints"):  # checkpoints win for backfills
        out[r["step"]] = float(r["seconds"] or 0.0)
    return out


def receipt(predicted: Sequence[dict[str, Any]], actual: dict[str, float]) -> list[dict[str, Any]]:
    """Predicted against actual per step still to do when planned, and a total row."""
    rows = []
    for s in predicted:
        if not s.get("todo", True):
            continue
        rows.append(_receipt_row(s["step"], s["seconds"], s["low_s"], s["high_s"], actual.get(s["step"])))
    done = [r for r in rows if r["actual_s"] is not None]
    total_actual = sum(r["actual_s"] for r in done) if rows and len(done) == len(rows) else None
    rows.append(_receipt_row("total", sum(r["predicted_s"] for r in rows), sum(_low(r) for r in rows),
                             sum(_high(r) for r in rows), total_actual))
    return rows


def _low(r: dict[str, Any]) -> float:
    return float(r["range_s"].split("-")[0].replace(",", ""))


def _high(r: dict[str, Any]) -> float:
    return float(r["range_s"].split("-")[1].replace(",", ""))


def _receipt_row(step: str, point: float, low: float, high: float, actual: float | None) -> dict[str, Any]:
    return rollout_plan_common.receipt_row(step, point, low, high, actual, digits=2, range_thousands=False)


def format_receipt(rows: Sequence[dict[str, Any]]) -> list[str]:
    return rollout_plan_common.format_receipt(rows, digits=2)


def record_receipt(conn: psycopg.Connection, run_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """Into the ledger (dbopt's own schema), so `dbopt status` shows the last one."""
    detail = json.dumps({"run_id": run_id, "rows": list(rows)}, default=str)
    ledger.record(conn, RECEIPT_STEP, "-", run_id, "skipped", detail)


def latest_receipt(conn: psycopg.Connection) -> tuple[dict[str, Any], Any] | None:
    if not ledger.installed(conn):
        return None
    found = sqlrun.query_file(conn, f"{DIR}/070_latest_receipt.sql")
    if not found:
        return None
    return json.loads(found[0]["detail"]), found[0]["finished_at"]

