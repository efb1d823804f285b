"""What every run that changes PostgreSQL does first: check its settings, check the server,
then hold the one lock of "the rollout of this database" until the run ends.

Settings are checked before anything connects, the server before anything changes, so a
refused run leaves the database exactly as it was (not even dbopt's ledger is created).
The lock is a session advisory lock on a dedicated connection: exclusive for the rollout,
its rollback and the remedies; shared for the partitioned backfill runs (`*_by_range`),
which are parts of one rollout that may run side by side. The holding session's
`application_name` names its run, so a refused run says who holds the lock, and a killed
worker's lock ends with its connection (keepalives bound how long a dead host keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from dbopt.errors import DboptError
from dbopt.postgres import session
from dbopt.postgres.connect import PgConnector

# The contract: PostgreSQL 13 or newer.
MIN_SERVER_VERSION_NUM = 130000


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    why: str
    integer: bool = True

    def text(self) -> str:
        return f"between {self.low:g} and {self.high:g}"


# Every numeric setting of a run that changes PostgreSQL, with its allowed range and why.
BOUNDS: dict[str, Bound] = {
    "lock_timeout_ms": Bound(
        50, 10_000, "0 waits forever, and every writer queues behind DDL that waits; below 50 ms DDL rarely gets a lock"
    ),
    "statement_timeout_s": Bound(1, 6 * 3600, "0 lets a statement run forever", integer=False),
    "ddl_attempts": Bound(1, 100, "a step needs at least one attempt"),
    "pool_max_size": Bound(1, 100, "every connection counts against the server's max_connections"),
    "idle_in_transaction_timeout_s": Bound(
        5, 3600, "0 lets a dead worker keep its locks forever; our transactions never pause for seconds",
        integer=False,
    ),
    "rollout_lock_wait_s": Bound(0, 600, "how long a run waits for the rollout lock a killed run left", integer=False),
    "min_server_version_num": Bound(MIN_SERVER_VERSION_NUM, 999_999, "the contract needs PostgreSQL 13 or newer"),
    # BackfillConfig, checked for every op of the run before its first step.
    "target_batch_ms": Bound(1, 10_000, "longer batches hold row locks and WAL bursts longer"),
    "pause_ratio": Bound(0, 100, "a negative pause makes no sense", integer=False),
    "vacuum_every_fraction": Bound(
        0, 1, "a fraction of the table's rows (0 leaves dead space to autovacuum)", integer=False
    ),
    "max_transaction_age_s": Bound(1, 7 * 86400, "0 would pause on every transaction", integer=False),
    "max_replication_lag_s": Bound(0.1, 86400, "0 would pause on any lag", integer=False),
    "max_pause_s": Bound(1, 7 * 86400, "0 would fail at the first pause", integer=False),
    # The checks' random samples (pipelines/check_scope.py), checked with the rest before the first step.
    "sample_rows": Bound(1, 10_000_000, "an empty sample proves nothing; a huge one is the full check (tag dbopt/checks=full)"),
    "sample": Bound(1, 10_000_000, "an empty sample proves nothing; a huge one is the full check (tag dbopt/checks=full)"),
    "sample_conversations": Bound(
        1, 10_000_000, "an empty sample proves nothing; a huge one is the full check (tag dbopt/checks=full)"
    ),
}


def settings_problem(values: Mapping[str, Any], where: str) -> str | None:
    """The first setting out of its bounds, as a clause naming it, its range and why; else None."""
    for name, value in values.items():
        bound = BOUNDS.get(name)
        if bound is None or value is None:
            continue
        ok_type = isinstance(value, int) if bound.integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "a whole number" if bound.integer else "a number"
            return f"{name} in {where} is {value!r} but must be {kind} {bound.text()}"
        if not bound.low <= value <= bound.high:
            return f"{name} in {where} is {value:g} but must be {bound.text()} ({bound.why})"
    return None


def check_settings(resource_values: Mapping[str, Any], op_configs: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse, in one sentence naming the setting and its range, any setting out of bounds."""
    problem = settings_problem(resource_values, "the postgres resource's config")
    for op, config in op_configs.items():
        problem = problem or settings_problem(config, f"the config of {op}")
    if problem:
        raise DboptError(f"Nothing was changed: {problem}; fix it in the run's config and launch the run again.")


def check_server(conn: psycopg.Connection, *, min_version_num: int, text_search_config: str | None) -> str:
    """Refuse a server older than the minimum or without the text search configuration; its version."""
    num, version = conn.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version')").fetchone()
    if num < min_version_num:
        raise DboptError(
            f"Nothing was changed: the server runs PostgreSQL {version}, older than PostgreSQL "
            f"{_version(min_version_num)}, the oldest this rollout supports; upgrade the server first."
        )
    if text_search_config is not None:
        schema, _, name = text_search_config.rpartition(".")
        found = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace "
            "WHERE c.cfgname = %(name)s AND (n.nspname = %(schema)s OR (%(schema)s = '' AND pg_ts_config_is_visible(c.oid))))",
            {"name": name, "schema": schema},
        ).fetchone()[0]
        if not found:
            raise DboptError(
                f"Nothing was changed: text_search_config {text_search_config!r} is not a text search configuration on "
                f"this server; use one that SELECT cfgname FROM pg_ts_config lists, such as simple or english."
            )
    return version


def _version(num: int) -> str:
    return f"{num // 10000}" if num >= 100000 else f"{num // 10000}.{num // 100 % 100}"


ROLLOUT_KEY = "dbopt:rollout"

class RolloutLock:
    """The rollout lock of one database, held on a dedicated connection until `release`."""

    def __init__(self, connector: PgConnector, *, owner: str, shared: bool, wait_s: float = 10.0) -> None:
        self.connector = connector
        self.owner = owner  # e.g. "run 1a2b3c4d (phase1_postgres)"
        self.shared = shared
        self.wait_s = wait_s
        self._conn: psycopg.Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def acquire(self) -> None:
        if self.held:
            return
        conn = self.connector.dedicated(autocommit=True)
        try:
            session.name_session(conn, f"lock {self.owner}")
            session.set_timeouts(conn, statement_ms=10_000)
            # A killed run's lock lingers until the server notices its client is gone.
            if not session.try_advisory_lock(conn, ROLLOUT_KEY, wait_s=self.wait_s, shared=self.shared, poll_s=0.2):
                raise DboptError(self._refusal(conn))
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _refusal(self, conn: psycopg.Connection) -> str:
        names = []
        for h in session.advisory_holders(conn, ROLLOUT_KEY):
            app = h.application
            who = app[len("dbopt lock "):] if app and app.startswith("dbopt lock ") else "a session"
            names.append(f"{who}, pid {h.pid}" + (f", since {h.since} UTC" if h.since else ""))
        held_by = "; ".join(names) or "another session"
        mine = "a partitioned backfill run" if self.shared else "this run"
        return (
            f"Nothing was changed: the rollout of this database is locked by {held_by}, so {mine} cannot start; "
            f"wait for that run to finish (or end it) and launch this one again."
        )

    def release(self) -> None:
        """Closing the session releases the lock (also when the worker dies: the server closes it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
