"""The migration runner: every schema change of the rollout goes through here.

- DDL runs in a short transaction under `lock_timeout` (default 500 ms), so no writer
  queues behind it for longer than that; on a lock timeout it rolls back and retries
  with exponential backoff and full jitter. While it waits, a second connection watches
  `pg_blocking_pids()`, so when it gives up it names the session that held the lock.
- Indexes are built with `CREATE INDEX CONCURRENTLY` outside any transaction; an INVALID
  index left by an earlier failed build is found, dropped concurrently and rebuilt.
- The ledger records every step with the checksum of its SQL: an applied step is skipped
  (a second run changes nothing), a step whose SQL changed since is refused, except a
  `rerun` step (a rollback): it runs every time anyway, so its new checksum is recorded.
- A session-level advisory lock per step keeps two runs from applying it at once.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg import errors as pgerrors

from dbopt import sqlfiles
from dbopt.errors import ChangedMigration, DboptError, LockTimeout
from dbopt.postgres import ledger, sqlrun
from dbopt.postgres.connect import PgConnector


class Log(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class RunnerSettings:
    """How patient DDL is. Defaults suit a busy production database."""

    lock_timeout_ms: int = 500
    statement_timeout_s: float = 120.0
    attempts: int = 8
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0
    # CREATE INDEX CONCURRENTLY waits for older transactions without blocking writers,
    # so it may wait much longer than ordinary DDL.
    index_lock_timeout_s: float = 600.0
    index_statement_timeout_s: float = 6 * 3600.0
    # How long to wait for a step another session is applying (a killed run's lingering lock).
    advisory_wait_s: float = 30.0


# --- steps ----------------------------------------------------------------------------------


_GUARD = re.compile(r"^\s*--\s*already-applied-if:\s*(.+)$", re.M)


@dataclass(frozen=True)
class Sql:
    """A file of DDL applied in one short transaction (all or nothing).

    A file may start with `-- already-applied-if: <query>`: when the query returns true
    the step is recorded as applied without running, which makes statements that have no
    IF NOT EXISTS (ADD CONSTRAINT, CREATE TRIGGER before PostgreSQL 14) idempotent while
    leaving them visible to squawk. `rerun=True` marks files that are idempotent by
    construction and must run every time (rollbacks). `transactional=False` runs each
    statement on its own (DROP INDEX CONCURRENTLY cannot run in a transaction).
    """

    name: str
    path: str
    render: Mapping[str, str] = field(default_factory=dict)
    # Long-running but non-blocking statements (VALIDATE CONSTRAINT) need more time.
    statement_timeout_s: float | None = None
    rerun: bool = False
    transactional: bool = True

    def text(self) -> str:
        return sqlfiles.load(self.path, self.render)

    def guard(self) -> str | None:
        match = _GUARD.search(self.text())
        return match.group(1).strip() if match else None


_INDEX_NAME = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>\"?[\w]+\"?)\s+ON\s+(?:ONLY\s+)?(?P<table>[\w.\"]+)",
    re.I,
)


@dataclass(frozen=True)
class ConcurrentIndex:
    """A file holding one `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS` statement."""

    name: str
    path: str
    render: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return sqlfiles.load(self.path, self.render)

    def target(self) -> tuple[str, str]:
        """(index name, table) as written in the file."""
        statements = sqlfiles.split(self.text())
        match = _INDEX_NAME.search(statements[0]) if len(statements) == 1 else None
        if not match:
            raise DboptError(
                f"sql/{self.path} must hold exactly one CREATE INDEX CONCURRENTLY statement; fix the file."
            )
        return match["name"].strip('"'), match["table"].replace('"', "")


Step = Sql | ConcurrentIndex


@dataclass
class StepResult:
    name: str
    outcome: str  # applied | skipped
    seconds: float = 0.0
    attempts: int = 0
    detail: str = ""


# --- lock watching --------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    pid: int
    user: str | None
    application: str | None
    client: str | None
    state: str | None
    xact_seconds: float | None
    waiting_on: str | None
    backend_type: str | None = None
    activity: str | None = None  # only for autovacuum: its own description, never a client's query

    @property
    def is_cancellable_autovacuum(self) -> bool:
        """A routine autovacuum; PostgreSQL itself cancels these for DDL (never anti-wraparound ones)."""
        return (
            self.backend_type == "autovacuum worker"
            and bool(self.activity)
            and "wraparound" not in (self.activity or "")
        )

    def describe(self) -> str:
        if self.backend_type and self.backend_type != "client backend":
            what = self.activity or self.backend_type
            return f"pid {self.pid} ({what})"
        parts = [f"user {self.user}"] if self.user else []
        if self.application:
            parts.append(f"application {self.application!r}")
        if self.client:
            parts.append(f"from {self.client}")
        if self.state:
            parts.append(self.state)
        if self.xact_seconds is not None:
            parts.append(f"transaction open {self.xact_seconds:.0f} s")
        return f"pid {self.pid} ({', '.join(parts)})"


_BLOCKERS_SQL = """
SELECT a.pid, a.usename, NULLIF(a.application_name, ''), host(a.client_addr), a.state,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
       (SELECT string_agg(DISTINCT l.relation::regclass::text, ', ')
          FROM pg_locks l WHERE l.pid = %(me)s AND NOT l.granted AND l.relation IS NOT NULL),
       a.backend_type,
       CASE WHEN a.backend_type = 'autovacuum worker' THEN left(a.query, 200) END
FROM pg_stat_activity a
WHERE a.pid = ANY (pg_blocking_pids(%(me)s))
ORDER BY a.xact_start NULLS LAST
"""


class LockWatcher:
    """Polls who blocks a session while it waits for a lock, from a second connection."""

    def __init__(self, connector: PgConnector, pid: int, interval_s: float = 0.05) -> None:
        self._connector = connector
        self._pid = pid
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seen: list[Blocker] = []

    def __enter__(self) -> LockWatcher:
        self._conn = self._connector.dedicated(autocommit=True)
        self._thread = threading.Thread(target=self._loop, name="dbopt-lock-watcher", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                rows = self._conn.execute(_BLOCKERS_SQL, {"me": self._pid}).fetchall()
            except psycopg.Error:
                return
            if rows:
                self.seen = [Blocker(*r) for r in rows]
            self._stop.wait(self._interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._conn.close()


# --- the runner -----------------------------------------------------------------------------


class MigrationRunner:
    """Applies steps in order, once, under short lock timeouts; see the module docstring."""

    def __init__(
        self,
        connector: PgConnector,
        *,
        settings: RunnerSettings | None = None,
        run_id: str | None = None,
        log: Log | None = None,
    ) -> None:
        self.connector = connector
        self.settings = settings or RunnerSettings()
        self.run_id = run_id
        self.log: Log = log or logging.getLogger("dbopt.runner")
        with connector.connection() as conn:
            ledger.ensure(conn)

    # -- public ----------------------------------------------------------------------------
    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        return [self.apply_step(step) for step in steps]

    def apply_step(self, step: Step) -> StepResult:
        checksum = sqlfiles.checksum(step.text())
        rerun = isinstance(step, Sql) and step.rerun
        with self.connector.connection() as conn:
            done = ledger.latest_applied(conn, step.name)
        if done is not None and done.checksum != checksum and rerun:
            # A rerun step (a rollback) is idempotent and runs every time: its ledger entry
            # is a record, not a promise, so new SQL simply runs and its checksum is recorded.
            self.log.info(f"{step.name}: SQL changed since its last run (checksum {done.checksum} -> {checksum})")
        elif done is not None and done.checksum != checksum:
            raise ChangedMigration(
                f"Step {step.name} was applied on {done.finished_at:%Y-%m-%d %H:%M} UTC from SQL that has since "
                f"changed (checksum {done.checksum} vs {checksum}); restore sql/{step.path} or add a new step "
                f"instead of editing an applied one."
            )
        if done is not None and not isinstance(step, ConcurrentIndex) and not rerun:
            self.log.info(f"{step.name}: already applied (run {done.run_id}), nothing to do")
            return StepResult(step.name, "skipped", detail="already applied")
        with self._advisory_lock(step.name) as conn:
            if isinstance(step, ConcurrentIndex):
                return self._apply_index(conn, step, checksum, already=done is not None)
            guard = step.guard()
            if guard and conn.execute(guard).fetchone()[0]:
                with self.connector.connection() as c:
                    ledger.record(c, step.name, checksum, self.run_id, "applied", "already in place")
                self.log.info(f"{step.name}: already in place, nothing to do")
                return StepResult(step.name, "skipped", detail="already in place")
            return self._apply_sql(conn, step, checksum)

    def record_applied(self, name: str, checksum: str, detail: str) -> None:
        """Ledger an applied step that is not SQL of its own (a backfill)."""
        with self.connector.connection() as conn:
            ledger.record(conn, name, checksum, self.run_id, "applied", detail)

    def is_applied(self, name: str, checksum: str) -> bool:
        with self.connector.connection() as conn:
            done = ledger.latest_applied(conn, name)
        return done is not None and done.checksum == checksum

    # -- DDL in a transaction ---------------------------------------------------------------
    def _apply_sql(self, conn: psycopg.Connection, step: Sql, checksum: str) -> StepResult:
        text = step.text()
        names = sqlfiles.param_names(text)
        statements = sqlfiles.split(text)
        timeout_s = step.statement_timeout_s or self.settings.statement_timeout_s
        entry = self._ledger_start(step.name, checksum)
        started = time.monotonic()
        last_blockers: list[Blocker] = []
        for attempt in range(1, self.settings.attempts + 1):
            with LockWatcher(self.connector, conn.info.backend_pid) as watcher:
                try:
                    if step.transactional:
                        with conn.transaction():
                            conn.execute(f"SET LOCAL lock_timeout = {int(self.settings.lock_timeout_ms)}")
                            conn.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
                            for stmt in statements:
                                sqlrun.execute(conn, stmt, names, {})
                    else:
                        conn.execute(f"SET lock_timeout = {int(self.settings.lock_timeout_ms)}")
                        conn.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
                        try:
                            for stmt in statements:
                                sqlrun.execute(conn, stmt, names, {})
                        finally:
                            conn.execute("RESET lock_timeout")
                            conn.execute("RESET statement_timeout")
                except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected) as exc:
                    last_blockers = watcher.seen or last_blockers
                    if attempt == self.settings.attempts:
                        break
                    if self._cancel_autovacuum(step.name, watcher.seen):
                        continue
                    pause = self._backoff(attempt)
                    self.log.warning(
                        f"{step.name}: attempt {attempt}/{self.settings.attempts} gave up its lock wait after "
                        f"{self.settings.lock_timeout_ms} ms ({_lock_reason(exc, last_blockers)}); "
                        f"retrying in {pause:.1f} s"
                    )
                    time.sleep(pause)
                    continue
                except pgerrors.QueryCanceled:
                    self._ledger_finish(entry, "failed", "statement timeout")
                    raise DboptError(
                        f"Step {step.name} ran longer than its statement timeout of {timeout_s:.0f} s and was "
                        f"rolled back; raise the timeout in the job's config or run it at a quieter time."
                    ) from None
                except psycopg.Error as exc:
                    self._ledger_finish(entry, "failed", _first_line(exc))
                    raise DboptError(
                        f"Step {step.name} failed and was rolled back: {_first_line(exc)}; fix the cause and rerun "
                        f"the job (applied steps are skipped)."
                    ) from None
            seconds = time.monotonic() - started
            detail = f"applied in {seconds:.2f} s after {attempt} attempt(s)"
            self._ledger_finish(entry, "applied", detail)
            self.log.info(f"{step.name}: {detail}")
            return StepResult(step.name, "applied", seconds, attempt, detail)
        seconds = time.monotonic() - started
        blocker_text = _blocker_sentence(last_blockers)
        self._ledger_finish(entry, "failed", f"lock timeout; {blocker_text}")
        raise LockTimeout(
            f"Step {step.name} gave up after {self.settings.attempts} attempts in {seconds:.1f} s waiting for "
            f"{blocker_text}; end that session or wait for it to finish, then rerun the job."
        )

    # -- CREATE INDEX CONCURRENTLY ----------------------------------------------------------
    def _apply_index(self, conn: psycopg.Connection, step: ConcurrentIndex, checksum: str, *, already: bool) -> StepResult:
        index, table = step.target()
        state = index_state(conn, table, index)
        if state == "valid":
            if not already:
                with self.connector.connection() as c:
                    ledger.record(c, step.name, checksum, self.run_id, "applied", "index already present and valid")
            self.log.info(f"{step.name}: index {index} is present and valid, nothing to do")
            return StepResult(step.name, "skipped", detail="index present and valid")
        entry = self._ledger_start(step.name, checksum)
        started = time.monotonic()
        last_error = ""
        last_blockers: list[Blocker] = []
        for attempt in range(1, self.settings.attempts + 1):
            if index_state(conn, table, index) == "invalid":
                self.log.warning(
                    f"{step.name}: found INVALID index {index} left by an earlier failed build; dropping it "
                    f"concurrently and building it again"
                )
                self._drop_index_concurrently(conn, table, index)
            conn.execute(f"SET lock_timeout = {int(self.settings.index_lock_timeout_s * 1000)}")
            conn.execute(f"SET statement_timeout = {int(self.settings.index_statement_timeout_s * 1000)}")
            with LockWatcher(self.connector, conn.info.backend_pid) as watcher:
                try:
                    conn.execute(step.text())
                except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected, pgerrors.QueryCanceled) as exc:
                    last_error = _first_line(exc)
                    last_blockers = watcher.seen or last_blockers
                    pause = self._backoff(attempt)
                    self.log.warning(
                        f"{step.name}: build attempt {attempt} stopped ({_lock_reason(exc, last_blockers)}); "
                        f"retrying in {pause:.1f} s"
                    )
                    time.sleep(pause)
                    continue
                except psycopg.Error as exc:
                    self._ledger_finish(entry, "failed", _first_line(exc))
                    raise DboptError(
                        f"Building index {index} failed: {_first_line(exc)}; fix the cause and rerun the job (the "
                        f"INVALID index it may leave is rebuilt automatically)."
                    ) from None
                finally:
                    conn.execute("RESET lock_timeout")
                    conn.execute("RESET statement_timeout")
            if index_state(conn, table, index) != "valid":
                last_error = "the build finished but the index is not valid"
                continue
            seconds = time.monotonic() - started
            detail = f"built concurrently in {seconds:.2f} s"
            self._ledger_finish(entry, "applied", detail)
            self.log.info(f"{step.name}: index {index} {detail}")
            return StepResult(step.name, "applied", seconds, attempt, detail)
        self._ledger_finish(entry, "failed", last_error)
        raise LockTimeout(
            f"Index {index} could not be built in {self.settings.attempts} attempts ({last_error}; "
            f"{_blocker_sentence(last_blockers)}); rerun the job when the database is quieter."
        )

    # -- REINDEX INDEX CONCURRENTLY of bloated indexes --------------------------------------
    def reindex_bloated(self, query: Sql) -> list[StepResult]:
        """Rebuild, online, each index `query` returns (qualified, index_name, bytes, estimate).

        REINDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE (writers go on) and, like CREATE
        INDEX CONCURRENTLY, waits for older transactions, under the index builds' timeouts. It
        only saves space: one that fails is logged, its half-built copy (`<index>_ccnew`,
        INVALID) dropped concurrently, and the run goes on with the old index."""
        results: list[StepResult] = []
        with self.connector.dedicated(autocommit=True) as conn:
            conn.execute(f"SET lock_timeout = {int(self.settings.lock_timeout_ms)}")
            conn.execute(f"SET statement_timeout = {int(self.settings.statement_timeout_s * 1000)}")
            found = conn.execute(query.text()).fetchall()
            for qualified, index, before, estimate in found:
                self._drop_invalid_copies(conn, qualified, index)
                started = time.monotonic()
                conn.execute(f"SET lock_timeout = {int(self.settings.index_lock_timeout_s * 1000)}")
                conn.execute(f"SET statement_timeout = {int(self.settings.index_statement_timeout_s * 1000)}")
                try:
                    conn.execute(f"REINDEX INDEX CONCURRENTLY {qualified}")
                except psycopg.Error as exc:
                    self.log.warning(
                        f"REINDEX INDEX CONCURRENTLY {index} stopped ({_first_line(exc)}); the index stays as it was "
                        f"({before / 2**20:,.0f} MB); its half-built copy is dropped"
                    )
                    self._drop_invalid_copies(conn, qualified, index)
                    results.append(StepResult(f"{query.name} {index}", "skipped", detail=_first_line(exc)))
                    continue
                after = conn.execute("SELECT pg_relation_size(%s::regclass)", (qualified,)).fetchone()[0]
                seconds = time.monotonic() - started
                detail = (f"{index}: {before / 2**20:,.1f} MB -> {after / 2**20:,.1f} MB (estimate of a compact "
                          f"build {estimate / 2**20:,.1f} MB), rebuilt concurrently in {seconds:.1f} s")
                self.log.info(detail)
                results.append(StepResult(f"{query.name} {index}", "applied", seconds, 1, detail))
        return results

    def _drop_invalid_copies(self, conn: psycopg.Connection, qualified: str, index: str) -> None:
        """INVALID `<index>_ccnew*` copies a stopped REINDEX CONCURRENTLY left."""
        copies = conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE NOT i.indisvalid AND c.relname LIKE %s AND n.oid = (SELECT relnamespace FROM pg_class "
            "WHERE oid = %s::regclass)",
            (index.replace("_", r"\_") + r"\_ccnew%", qualified),
        ).fetchall()
        for (copy,) in copies:
            conn.execute(f"SET lock_timeout = {int(self.settings.index_lock_timeout_s * 1000)}")
            conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {copy}")

    def _drop_index_concurrently(self, conn: psycopg.Connection, table: str, index: str) -> None:
        qualified = conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(%s))",
            (index, table),
        ).fetchone()
        if qualified:
            conn.execute(f"SET lock_timeout = {int(self.settings.index_lock_timeout_s * 1000)}")
            try:
                conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified[0]}")
            finally:
                conn.execute("RESET lock_timeout")

    # -- helpers ----------------------------------------------------------------------------
    def _cancel_autovacuum(self, step: str, blockers: list[Blocker]) -> bool:
        """Cancel a routine autovacuum in our way, as PostgreSQL does for DDL after
        deadlock_timeout (which our shorter lock_timeout never reaches). It runs again later."""
        vacuums = [b for b in blockers if b.is_cancellable_autovacuum]
        if not vacuums or len(vacuums) != len(blockers):
            return False
        cancelled = False
        with self.connector.connection() as conn:
            for b in vacuums:
                try:
                    cancelled |= bool(conn.execute("SELECT pg_cancel_backend(%s)", (b.pid,)).fetchone()[0])
                except psycopg.Error:
                    conn.rollback()  # no privilege to signal it: wait like for any other blocker
        if cancelled:
            self.log.warning(
                f"{step}: cancelled {vacuums[0].describe()} that held the lock, as PostgreSQL itself does for DDL; "
                f"autovacuum will run again shortly"
            )
        return cancelled

    def _backoff(self, attempt: int) -> float:
        cap = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)  # noqa: S311 - jitter, not cryptography

    def _ledger_start(self, name: str, checksum: str) -> int:
        with self.connector.connection() as conn:
            return ledger.start(conn, name, checksum, self.run_id)

    def _ledger_finish(self, entry: int, outcome: str, detail: str) -> None:
        with self.connector.connection() as conn:
            ledger.finish(conn, entry, outcome, detail)

    def _advisory_lock(self, name: str) -> _AdvisoryLock:
        return _AdvisoryLock(self.connector, f"dbopt:{name}", wait_s=self.settings.advisory_wait_s)


class _AdvisoryLock:
    """A dedicated autocommit connection holding a session advisory lock for one step.

    If another session holds the lock, wait a little: after a run is killed, PostgreSQL
    notices the dead client only when its backend next talks to it, so the lock of a
    killed run lingers for a moment. A live second run keeps it, and then we refuse.
    """

    def __init__(self, connector: PgConnector, key: str, wait_s: float = 30.0) -> None:
        self.connector = connector
        self.key = key
        self.wait_s = wait_s

    def __enter__(self) -> psycopg.Connection:
        conn = self.connector.dedicated(autocommit=True)
        conn.execute("SELECT set_config('application_name', %s, false)", (f"dbopt {self.key[6:]}"[:63],))
        deadline = time.monotonic() + self.wait_s
        while not conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.key,)).fetchone()[0]:
            if time.monotonic() >= deadline:
                holder = conn.execute(
                    "SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE l.locktype = 'advisory' AND l.granted AND "
                    "l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
                    "((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(%s, 0) LIMIT 1",
                    (self.key,),
                ).fetchone()
                conn.close()
                who = f"pid {holder[0]} ({holder[1]})" if holder else "another session"
                raise DboptError(
                    f"{self.key[6:]} is being applied right now by {who}; wait for that run to finish instead of "
                    f"starting a second one."
                )
            time.sleep(0.5)
        self.conn = conn
        return conn

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.conn.closed:
                self.conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (self.key,))
        except psycopg.Error:
            pass
        finally:
            self.conn.close()


def index_state(conn: psycopg.Connection, table: str, index: str) -> str:
    """'valid', 'invalid' or 'missing' for an index next to `table`."""
    row = conn.execute(
        "SELECT i.indisvalid AND i.indisready FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = %s AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(%s))",
        (index, table),
    ).fetchone()
    if row is None:
        return "missing"
    return "valid" if row[0] else "invalid"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _lock_reason(exc: BaseException, blockers: list[Blocker]) -> str:
    reason = "deadlock" if isinstance(exc, pgerrors.DeadlockDetected) else _first_line(exc)
    if blockers:
        reason += f"; blocked by {blockers[0].describe()}"
    return reason


def _blocker_sentence(blockers: list[Blocker]) -> str:
    if not blockers:
        return "a lock held by another session"
    b = blockers[0]
    where = f"a lock on {b.waiting_on}" if b.waiting_on else "a lock"
    others = f" and {len(blockers) - 1} other session(s)" if len(blockers) > 1 else ""
    return f"{where} held by {b.describe()}{others}"
