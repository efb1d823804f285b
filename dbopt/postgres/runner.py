"""The migration runner: every schema change of the rollout goes through here.

- DDL runs in a short transaction under `lock_timeout` (default 500 ms), so no writer
  queues behind it for longer than that; on a lock timeout it rolls back and retries
  with exponential backoff and full jitter. While it waits, a second connection watches
  `pg_blocking_pids()`, so when it gives up it names the session that held the lock
  (`session.LockWatcher`; the session itself, its timeouts and advisory lock: `session.py`).
- Indexes are built with `CREATE INDEX CONCURRENTLY` outside any transaction; an INVALID
  index left by an earlier failed build is found, dropped concurrently and rebuilt.
- The ledger records every step with the checksum of its SQL: an applied step is skipped
  (a second run changes nothing), a step whose SQL changed since is refused, except a
  `rerun` step (a rollback): it runs every time anyway, so its new checksum is recorded.
- A session-level advisory lock per step keeps two runs from applying it at once.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import errors as pgerrors

from dbopt import sqlfiles
from dbopt.errors import ChangedMigration, DboptError, LockTimeout
from dbopt.postgres import ledger, session, sqlrun


@dataclass(frozen=True)
class RunnerSettings(session.SessionSettings):
    """How patient DDL is. Defaults suit a busy production database."""

    statement_timeout_s: float = 120.0
    attempts: int = 8
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0
    # CREATE INDEX CONCURRENTLY waits for older transactions without blocking writers,
    # so it may wait much longer than ordinary DDL.
    index_lock_timeout_s: float = 600.0
    index_statement_timeout_s: float = 6 * 3600.0


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


# --- the runner -----------------------------------------------------------------------------


class MigrationRunner(session.Worker[RunnerSettings]):
    """Applies steps in order, once, under short lock timeouts; see the module docstring.

    `MigrationRunner(connector, settings=RunnerSettings(...), run_id=..., log=...)`."""

    settings_type = RunnerSettings
    logger_name = "dbopt.runner"

    def _ready(self) -> None:
        with self.connector.connection() as conn:
            ledger.ensure(conn)

    # -- public ----------------------------------------------------------------------------
    def apply(self, steps: Sequence[Step]) -> list[StepResult]:
        """Each step in order. The steps with nothing to do are logged together, in one entry
        before the next step that works (in a Dagster run each entry is an event-log write)."""
        self._skips = []
        try:
            return [self.apply_step(step) for step in steps]
        finally:
            self._flush_skips()
            self._skips = None

    _skips: list[str] | None = None

    def _skipped(self, note: str) -> None:
        if self._skips is None:
            self.log.info(f"{note}, nothing to do")
        else:
            self._skips.append(note)

    def _flush_skips(self) -> None:
        if self._skips:
            self.log.info("nothing to do: " + (self._skips[0] if len(self._skips) == 1 else "\n".join(
                ["", *self._skips])))
            self._skips.clear()

    def apply_step(self, step: Step) -> StepResult:
        checksum = sqlfiles.checksum(step.text())
        rerun = isinstance(step, Sql) and step.rerun
        with self.connector.connection() as conn:
            done = ledger.latest_applied(conn, step.name)
        if done is not None and done.checksum != checksum and rerun:
            # A rerun step (a rollback) is idempotent and runs every time: its ledger entry
            # is a record, not a promise, so new SQL simply runs and its checksum is recorded.
            self._flush_skips()
            self.log.info(f"{step.name}: SQL changed since its last run (checksum {done.checksum} -> {checksum})")
        elif done is not None and done.checksum != checksum:
            raise ChangedMigration(
                f"Step {step.name} was applied on {done.finished_at:%Y-%m-%d %H:%M} UTC from SQL that has since "
                f"changed (checksum {done.checksum} vs {checksum}); restore sql/{step.path} or add a new step "
                f"instead of editing an applied one."
            )
        if done is not None and not isinstance(step, ConcurrentIndex) and not rerun:
            self._skipped(f"{step.name}: already applied (run {done.run_id})")
            return StepResult(step.name, "skipped", detail="already applied")
        with self._advisory_lock(step.name) as conn:
            if isinstance(step, ConcurrentIndex):
                return self._apply_index(conn, step, checksum, already=done is not None)
            guard = step.guard()
            if guard and conn.execute(guard).fetchone()[0]:
                with self.connector.connection() as c:
                    ledger.record(c, step.name, checksum, self.run_id, "applied", "already in place")
                self._skipped(f"{step.name}: already in place")
                return StepResult(step.name, "skipped", detail="already in place")
            self._flush_skips()
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
        last_blockers: list[session.Blocker] = []
        limits = {"lock_ms": self.settings.lock_timeout_ms, "statement_ms": int(timeout_s * 1000)}
        for attempt in range(1, self.settings.attempts + 1):
            with session.LockWatcher(self.connector, conn.info.backend_pid) as watcher:
                try:
                    if step.transactional:
                        with conn.transaction():
                            session.set_timeouts(conn, **limits, local=True)
                            for stmt in statements:
                                sqlrun.execute(conn, stmt, names, {})
                    else:
                        with session.timeouts(conn, **limits):
                            for stmt in statements:
                                sqlrun.execute(conn, stmt, names, {})
                except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected) as exc:
                    last_blockers = watcher.seen or last_blockers
                    if attempt == self.settings.attempts:
                        break
                    if self._cancel_autovacuum(step.name, watcher.seen):
                        continue
                    self._retry_later(attempt, f"{step.name}: attempt {attempt}/{self.settings.attempts} gave up its "
                                      f"lock wait after {self.settings.lock_timeout_ms} ms "
                                      f"({session.lock_reason(exc, last_blockers)})")
                    continue
                except pgerrors.QueryCanceled:
                    raise self._failed(entry, "statement timeout", (
                        f"Step {step.name} ran longer than its statement timeout of {timeout_s:.0f} s and was "
                        f"rolled back; raise the timeout in the job's config or run it at a quieter time."
                    )) from None
                except psycopg.Error as exc:
                    raise self._failed(entry, session.first_line(exc), (
                        f"Step {step.name} failed and was rolled back: {session.first_line(exc)}; fix the cause and "
                        f"rerun the job (applied steps are skipped)."
                    )) from None
            seconds = time.monotonic() - started
            detail = f"applied in {seconds:.2f} s after {attempt} attempt(s)"
            self._ledger_finish(entry, "applied", detail)
            self.log.info(f"{step.name}: {detail}")
            return StepResult(step.name, "applied", seconds, attempt, detail)
        seconds = time.monotonic() - started
        blocker_text = session.blocker_sentence(last_blockers)
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
            self._skipped(f"{step.name}: index {index} is present and valid")
            return StepResult(step.name, "skipped", detail="index present and valid")
        self._flush_skips()
        entry = self._ledger_start(step.name, checksum)
        started = time.monotonic()
        last_error = ""
        last_blockers: list[session.Blocker] = []
        for attempt in range(1, self.settings.attempts + 1):
            if index_state(conn, table, index) == "invalid":
                self.log.warning(
                    f"{step.name}: found INVALID index {index} left by an earlier failed build; dropping it "
                    f"concurrently and building it again"
                )
                self._drop_index_concurrently(conn, table, index)
            with session.timeouts(conn, **self._index_limits), session.LockWatcher(
                self.connector, conn.info.backend_pid
            ) as watcher:
                try:
                    conn.execute(step.text())
                except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected, pgerrors.QueryCanceled) as exc:
                    last_error = session.first_line(exc)
                    last_blockers = watcher.seen or last_blockers
                    self._retry_later(attempt, f"{step.name}: build attempt {attempt} stopped "
                                      f"({session.lock_reason(exc, last_blockers)})")
                    continue
                except psycopg.Error as exc:
                    raise self._failed(entry, session.first_line(exc), (
                        f"Building index {index} failed: {session.first_line(exc)}; fix the cause and rerun the job "
                        f"(the INVALID index it may leave is rebuilt automatically)."
                    )) from None
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
            f"{session.blocker_sentence(last_blockers)}); rerun the job when the database is quieter."
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
            session.set_timeouts(conn, lock_ms=self.settings.lock_timeout_ms,
                                 statement_ms=int(self.settings.statement_timeout_s * 1000))
            found = conn.execute(query.text()).fetchall()
            for qualified, index, before, estimate in found:
                self._drop_invalid_copies(conn, qualified, index)
                started = time.monotonic()
                session.set_timeouts(conn, **self._index_limits)
                try:
                    conn.execute(f"REINDEX INDEX CONCURRENTLY {qualified}")
                except psycopg.Error as exc:
                    self.log.warning(
                        f"REINDEX INDEX CONCURRENTLY {index} stopped ({session.first_line(exc)}); the index stays as it was "
                        f"({before / 2**20:,.0f} MB); its half-built copy is dropped"
                    )
                    self._drop_invalid_copies(conn, qualified, index)
                    results.append(StepResult(f"{query.name} {index}", "skipped", detail=session.first_line(exc)))
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
            session.set_timeouts(conn, lock_ms=self._index_limits["lock_ms"])
            conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {copy}")

    def _drop_index_concurrently(self, conn: psycopg.Connection, table: str, index: str) -> None:
        qualified = conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(%s))",
            (index, table),
        ).fetchone()
        if qualified:
            with session.timeouts(conn, lock_ms=self._index_limits["lock_ms"]):
                conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified[0]}")

    # -- helpers ----------------------------------------------------------------------------
    @property
    def _index_limits(self) -> dict[str, int]:
        """CREATE/REINDEX/DROP INDEX CONCURRENTLY wait for older transactions: long timeouts."""
        return {"lock_ms": int(self.settings.index_lock_timeout_s * 1000),
                "statement_ms": int(self.settings.index_statement_timeout_s * 1000)}

    def _cancel_autovacuum(self, step: str, blockers: list[session.Blocker]) -> bool:
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

    def _retry_later(self, attempt: int, what: str) -> None:
        """Say why an attempt stopped, then wait out the attempt's backoff."""
        pause = self._backoff(attempt)
        self.log.warning(f"{what}; retrying in {pause:.1f} s")
        time.sleep(pause)

    def _failed(self, entry: int, detail: str, sentence: str) -> DboptError:
        """Ledger the step as failed; the error to raise."""
        self._ledger_finish(entry, "failed", detail)
        return DboptError(sentence)

    def _backoff(self, attempt: int) -> float:
        cap = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)  # noqa: S311 - jitter, not cryptography

    def _ledger_start(self, name: str, checksum: str) -> int:
        with self.connector.connection() as conn:
            return ledger.start(conn, name, checksum, self.run_id)

    def _ledger_finish(self, entry: int, outcome: str, detail: str) -> None:
        with self.connector.connection() as conn:
            ledger.finish(conn, entry, outcome, detail)

    @contextlib.contextmanager
    def _advisory_lock(self, name: str) -> Iterator[psycopg.Connection]:
        """A dedicated autocommit session holding the step's advisory lock: two runs never
        apply one step at once (a killed run's lingering lock is waited for a little)."""

        def refusal(holders: Sequence[session.Holder]) -> str:
            who = holders[0].describe() if holders else "another session"
            return f"{name} is being applied right now by {who}; wait for that run to finish instead of starting a second one."

        with self.connector.dedicated(autocommit=True) as conn:
            session.name_session(conn, name)
            with session.advisory_lock(conn, f"dbopt:{name}", wait_s=self.settings.advisory_wait_s, refusal=refusal):
                yield conn


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
