"""Connections to the application's PostgreSQL, with errors a person can act on.

Every connection names itself (`application_name`), runs in UTC, ends itself when left idle
inside a transaction, sends TCP keepalives (so a dead worker's locks do not outlive it), and
turns connection failures into one sentence that shows the URL without its password.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import conninfo

from dbopt.errors import ConnectionProblem
from dbopt.secrets import check_url, redact_url, scrub_for

APPLICATION_NAME = "dbopt"


# dbopt's sessions never use PostgreSQL's parallel workers: an online rollout must leave
# the other cores to the application (a parallel index build or check query would take them).
SINGLE_CORE = "-c max_parallel_workers_per_gather=0 -c max_parallel_maintenance_workers=0"


# A session of ours that sits idle inside a transaction is a dead or stuck worker: our
# transactions run their statements back to back (the longest legitimate gap is a Python
# step between two statements, well under a second). Without this, a worker that dies
# mid-step while the server cannot tell (a frozen VM, a dropped network) keeps its locks,
# ACCESS EXCLUSIVE on messages included, for hours.
IDLE_IN_TRANSACTION_TIMEOUT_S = 60.0

# TCP keepalives: the server's end of a dead client's connection is noticed after about
# idle + interval * count = 30 + 3 * 10 s instead of the kernel's two hours, and its
# session (with its advisory and table locks) ends then.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def connection_kwargs(
    application_name: str = APPLICATION_NAME,
    *,
    single_core: bool = True,
    idle_in_transaction_timeout_s: float = IDLE_IN_TRANSACTION_TIMEOUT_S,
) -> dict[str, Any]:
    options = "-c TimeZone=UTC" + (f" {SINGLE_CORE}" if single_core else "")
    options += f" -c idle_in_transaction_session_timeout={int(idle_in_transaction_timeout_s * 1000)}"
    return {"application_name": application_name, "options": options, "connect_timeout": 10, **KEEPALIVES}


# libpq's words for a server that is not there (no listener, a firewall, a host that is down).
UNREACHABLE = ("connection refused", "timeout expired", "no route to host", "network is unreachable",
               "connection timed out", "no such file or directory")


def explain(exc: BaseException, url: str) -> ConnectionProblem:
    """One sentence for a failed connection, by what the server said: a wrong password, an
    unknown role, no such database, nothing listening; the password never appears."""
    raw = scrub_for(_reason(exc), url)
    raw_lower = raw.lower()
    safe = redact_url(url)
    if "role" in raw_lower and "does not exist" in raw_lower:
        return ConnectionProblem(f"PostgreSQL at {safe} has no such role ({raw}); fix the user name in DATABASE_URL.")
    if isinstance(exc, psycopg.ProgrammingError) or "invalid dsn" in raw_lower or "missing" in raw_lower:
        return ConnectionProblem(
            f"DATABASE_URL {safe!r} is not a valid PostgreSQL URL ({raw}); write it as "
            f"postgresql://user:password@host:5432/dbname."
        )
    if "password authentication failed" in raw_lower or "no password supplied" in raw_lower:
        return ConnectionProblem(f"PostgreSQL at {safe} refused the credentials; fix the user or password in DATABASE_URL.")
    if "does not exist" in raw_lower and "database" in raw_lower:
        return ConnectionProblem(f"PostgreSQL at {safe} has no such database ({raw}); fix the database name in DATABASE_URL.")
    if "unsupported startup parameter" in raw_lower:
        # PgBouncer refuses libpq's `options` (dbopt's session settings) unless told to ignore them.
        return ConnectionProblem(
            f"DATABASE_URL {safe} leads to a connection pooler (PgBouncer: {raw}) that refuses dbopt's session "
            f"settings; point DATABASE_URL at the PostgreSQL server itself or at a session-mode pool."
        )
    if "could not translate host name" in raw_lower or "name or service not known" in raw_lower:
        return ConnectionProblem(f"The host in DATABASE_URL {safe} does not resolve; fix the host name.")
    if any(m in raw_lower for m in UNREACHABLE):
        return ConnectionProblem(
            f"Cannot connect to PostgreSQL at {safe}: nothing answers there ({raw}); start the server, or fix the "
            f"host and port in DATABASE_URL."
        )
    return ConnectionProblem(
        f"Cannot connect to PostgreSQL at {safe} ({raw}); check that the server runs and that DATABASE_URL is right."
    )


def _reason(exc: BaseException) -> str:
    """The useful part of libpq's message: what failed, not the boilerplate around it."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    first = text.splitlines()[0]
    if "failed:" in first:
        first = first.rsplit("failed:", 1)[1]
    return first.replace("FATAL:", "").strip() or text.splitlines()[0]


def connect(
    url: str,
    *,
    autocommit: bool = False,
    application_name: str = APPLICATION_NAME,
    idle_in_transaction_timeout_s: float = IDLE_IN_TRANSACTION_TIMEOUT_S,
) -> psycopg.Connection:
    """A new connection that is not from the pool (DDL, advisory locks, watchers)."""
    check_url(url, "DATABASE_URL")
    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise explain(exc, url) from None
    kwargs = connection_kwargs(application_name, idle_in_transaction_timeout_s=idle_in_transaction_timeout_s)
    try:
        return psycopg.connect(url, autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        raise explain(exc, url) from None


class PgConnector:
    """A URL plus a lazily opened connection pool; the handle every mechanism takes."""

    def __init__(
        self,
        url: str,
        *,
        pool_max_size: int = 8,
        application_name: str = APPLICATION_NAME,
        idle_in_transaction_timeout_s: float = IDLE_IN_TRANSACTION_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.application_name = application_name
        self.idle_in_transaction_timeout_s = idle_in_transaction_timeout_s
        self._pool_max_size = pool_max_size
        self._pool: Any = None
        self._lock = threading.Lock()
        # Connections handed out by `connection()` and not yet given back. The pool's own
        # size also counts connections it is still opening, so size - idle is not "in use".
        self._lent = 0
        self._lent_lock = threading.Lock()

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    def pool(self) -> Any:
        from psycopg_pool import ConnectionPool

        with self._lock:
            if self._pool is None:
                # Fail fast with our sentence rather than the pool's timeout.
                self.dedicated().close()
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self._pool_max_size,
                    kwargs=connection_kwargs(
                        self.application_name, idle_in_transaction_timeout_s=self.idle_in_transaction_timeout_s
                    ),
                    name="dbopt",
                    open=True,
                    timeout=30,
                )
            return self._pool

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; the transaction commits on success and rolls back on error."""
        with self.pool().connection() as conn:
            with self._lent_lock:
                self._lent += 1
            try:
                yield conn
            finally:
                with self._lent_lock:
                    self._lent -= 1

    def dedicated(self, *, autocommit: bool = False) -> psycopg.Connection:
        return connect(
            self.url,
            autocommit=autocommit,
            application_name=self.application_name,
            idle_in_transaction_timeout_s=self.idle_in_transaction_timeout_s,
        )

    def pool_stats(self) -> dict[str, int]:
        """The pool's figures (psycopg_pool's names) plus `connections_lent`: those in use now."""
        if self._pool is None:
            return {}
        with self._lent_lock:
            lent = self._lent
        return {**self._pool.get_stats(), "connections_lent": lent}

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
