"""A PostgreSQL session as the rollout runs it: shared by the migration runner
(`runner.py`), the backfill engine (`backfill.py`) and the rollout lock (`rollout.py`).

- `Log`: where progress and warnings go (Dagster's context.log, or a `logging.Logger`).
- `Worker`: what the runner and the engine are made of: a connector, their settings, the
  run they belong to (its id goes into the ledger and the checkpoints), a log and a clock.
- `name_session`: `application_name` "dbopt <what>", so `pg_stat_activity` (and whoever a
  blocked writer's DBA asks) sees which step a session belongs to.
- `advisory_lock`: a session advisory lock on a text key, waited for a little: after a run
  is killed, PostgreSQL notices the dead client only when its backend next talks to it, so
  the lock of a killed run lingers for a moment. A live holder keeps it, and then the
  caller refuses in a sentence that names it (`advisory_holders`).
- `set_timeouts` / `timeouts`: `lock_timeout` and `statement_timeout`, for the transaction
  (`SET LOCAL`) or the session (reset after).
- Lock diagnosis: `LockWatcher` polls `pg_blocking_pids()` from a second connection while a
  session waits for a lock, so a step that gives up names the `Blocker`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

import psycopg
from psycopg import errors as pgerrors

from dbopt.errors import DboptError
from dbopt.postgres.connect import PgConnector


class Log(Protocol):
    def info(self, msg: str) -> None: ...
    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class SessionSettings:
    """What every rollout session waits for at most; `RunnerSettings` and `BackfillSettings` add their own."""

    # A statement waits this long for a lock, then gives up and retries: no writer queues behind it longer.
    lock_timeout_ms: int = 500
    statement_timeout_s: float = 60.0
    # How long to wait for a step another session is applying (a killed run's lingering lock).
    advisory_wait_s: float = 30.0


S = TypeVar("S", bound=SessionSettings)


class Worker(Generic[S]):
    """The base of `MigrationRunner` and `BackfillEngine` (see the module docstring)."""

    settings_type: ClassVar[type]
    logger_name: ClassVar[str]

    def __init__(
        self,
        connector: PgConnector,
        *,
        settings: S | None = None,
        run_id: str | None = None,
        log: Log | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connector = connector
        self.settings: S = settings or self.settings_type()
        self.run_id = run_id
        self.log: Log = log or logging.getLogger(self.logger_name)
        self._clock = clock
        self._ready()

    def _ready(self) -> None:
        """What a subclass prepares once it is built (the runner: its ledger)."""


def name_session(conn: psycopg.Connection, what: str) -> None:
    """application_name "dbopt <what>" (PostgreSQL keeps 63 bytes)."""
    conn.execute("SELECT set_config('application_name', %s, false)", (f"dbopt {what}"[:63],))


# --- timeouts -------------------------------------------------------------------------------


def set_timeouts(
    conn: psycopg.Connection, *, lock_ms: int | None = None, statement_ms: int | None = None, local: bool = False
) -> None:
    """`lock_timeout` / `statement_timeout` in milliseconds (0 disables), for the open
    transaction (`local`, as SET LOCAL) or the session."""
    for name, ms in (("lock_timeout", lock_ms), ("statement_timeout", statement_ms)):
        if ms is not None:
            conn.execute("SELECT set_config(%s, %s, %s)", (name, f"{int(ms)}ms", local))


@contextlib.contextmanager
def timeouts(conn: psycopg.Connection, *, lock_ms: int, statement_ms: int | None = None) -> Iterator[None]:
    """Session-level timeouts for statements that cannot run in a transaction (CREATE INDEX
    CONCURRENTLY), reset to the server's defaults afterwards."""
    set_timeouts(conn, lock_ms=lock_ms, statement_ms=statement_ms)
    try:
        yield
    finally:
        conn.execute("RESET lock_timeout")
        if statement_ms is not None:
            conn.execute("RESET statement_timeout")


def is_statement_timeout(exc: pgerrors.QueryCanceled) -> bool:
    """statement_timeout, not a cancel by an operator (pg_cancel_backend), which must stop us."""
    return "statement timeout" in (exc.diag.message_primary or str(exc))


def first_line(exc: BaseException) -> str:
    """The first line of a server error (the rest is context a sentence does not need)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- the advisory lock ----------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """A session holding an advisory lock."""

    pid: int
    application: str | None
    since: str | None  # its backend's start, HH:MM:SS UTC

    def describe(self) -> str:
        return f"pid {self.pid} ({self.application})"


_HOLDERS_SQL = """
SELECT a.pid, a.application_name, to_char(a.backend_start AT TIME ZONE 'UTC', 'HH24:MI:SS')
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(%s, 0)
  AND l.pid <> pg_backend_pid()
ORDER BY a.backend_start
"""


def advisory_holders(conn: psycopg.Connection, key: str) -> list[Holder]:
    """The other sessions holding the advisory lock on `key`, oldest first."""
    return [Holder(*row) for row in conn.execute(_HOLDERS_SQL, (key,)).fetchall()]


def try_advisory_lock(
    conn: psycopg.Connection,
    key: str,
    *,
    wait_s: float,
    shared: bool = False,
    poll_s: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Take the session advisory lock on `key`, waiting up to `wait_s` for a lingering holder."""
    take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    deadline = clock() + wait_s
    while not conn.execute(f"SELECT {take}(hashtextextended(%s, 0))", (key,)).fetchone()[0]:
        if clock() >= deadline:
            return False
        time.sleep(poll_s)
    return True


@contextlib.contextmanager
def advisory_lock(
    conn: psycopg.Connection,
    key: str,
    *,
    wait_s: float,
    refusal: Callable[[Sequence[Holder]], str],
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold the advisory lock on `key` for the block, or raise `refusal(holders)` as a DboptError."""
    if not try_advisory_lock(conn, key, wait_s=wait_s, clock=clock):
        raise DboptError(refusal(advisory_holders(conn, key)))
    try:
        yield
    finally:
        try:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (key,))
        except psycopg.Error:
            pass  # a broken session has lost its locks with it


# --- lock diagnosis -------------------------------------------------------------------------


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


def lock_reason(exc: BaseException, blockers: Sequence[Blocker]) -> str:
    """Why a lock wait ended, and who was in the way."""
    reason = "deadlock" if isinstance(exc, pgerrors.DeadlockDetected) else first_line(exc)
    if blockers:
        reason += f"; blocked by {blockers[0].describe()}"
    return reason


def blocker_sentence(blockers: Sequence[Blocker]) -> str:
    """"a lock on <table> held by pid … (user …, application …)", for a refusal."""
    if not blockers:
        return "a lock held by another session"
    b = blockers[0]
    where = f"a lock on {b.waiting_on}" if b.waiting_on else "a lock"
    others = f" and {len(blockers) - 1} other session(s)" if len(blockers) > 1 else ""
    return f"{where} held by {b.describe()}{others}"
