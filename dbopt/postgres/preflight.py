"""The PostgreSQL preflight: will `phase1_postgres` work on this server, right now?

Read-only by construction: every query runs in a READ ONLY transaction under a short
statement_timeout and lock_timeout, on connections of its own that never use prepared
statements (psycopg prepares a query it has run five times, and through PgBouncer in
transaction mode the next transaction may land on a server session that already has, or
lacks, `_pg3_0`: the probe must say "pooler", not die of it). The Dagster asset
`postgres_preflight` and `dbopt plan` both call `run` and show its findings' sentences.

The queries are in sql/postgres/postgres_preflight/. What each finding means, its
threshold and what to do: docs/postgres.md, "postgres_preflight".
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import psycopg

from dbopt.errors import DboptError
from dbopt.postgres import rollout, sqlrun
from dbopt.postgres.connect import PgConnector
from dbopt.preflight import Finding, go, no_go, warn

SQL = "postgres/postgres_preflight"

# The tables phase1_postgres changes, and what it does to each (dbopt/postgres/phase1.py):
# ALTER TABLE / CREATE INDEX / ANALYZE need ownership; CREATE TRIGGER needs TRIGGER;
# the backfills UPDATE.
ROLLOUT_TABLES: dict[str, tuple[str, ...]] = {
    "messages": ("owner", "TRIGGER", "UPDATE"),
    "conversations": ("owner", "UPDATE"),
    "conversation_members": ("TRIGGER",),
    "posts": ("owner",),
    "message_attachments": ("owner",),
}

# Connections dbopt opens besides its pool: the rollout lock, the DDL lock watcher, the
# checks' Great Expectations engine and the throttle's health reads.
EXTRA_CONNECTIONS = 4
# Fewest connections a rollout can run with: the pool's first, the rollout lock, the DDL
# lock watcher and the checks' engine. The pool grows to pool_max_size only on demand.
MIN_CONNECTIONS = 4

# Finding names: each is a Dagster check on postgres_preflight.
SERVER_VERSION = "postgres_server_version"
PRIVILEGES = "postgres_privileges"
VISIBILITY = "postgres_session_visibility"
IDLE_IN_TRANSACTION = "postgres_idle_in_transaction"
LONG_TRANSACTIONS = "postgres_long_transactions"
REPLICAS = "postgres_replicas"
POOLER = "postgres_transaction_pooler"
AUTOVACUUM = "postgres_autovacuum"
CONNECTIONS = "postgres_connection_headroom"
FINDINGS = (
    SERVER_VERSION, PRIVILEGES, VISIBILITY, POOLER, IDLE_IN_TRANSACTION, LONG_TRANSACTIONS, REPLICAS, AUTOVACUUM,
    CONNECTIONS,
)
DESCRIPTIONS = {
    SERVER_VERSION: "PostgreSQL 13 or newer, and a primary (a standby cannot be changed).",
    PRIVILEGES: "Ownership, TRIGGER and UPDATE on the tables the rollout changes; CREATE for dbopt's own schema.",
    VISIBILITY: "Whether dbopt can see other sessions (pg_monitor / pg_read_all_stats); without it the throttle is blind.",
    POOLER: "No transaction-pooling proxy (PgBouncer in transaction mode) between dbopt and the server.",
    IDLE_IN_TRANSACTION: "No session idle in transaction holding a lock on a table the rollout changes.",
    LONG_TRANSACTIONS: "No transaction open longer than the thresholds (blocks DDL, holds back vacuum).",
    REPLICAS: "Replicas and their replay lag against the backfill throttle's limit.",
    AUTOVACUUM: "Autovacuum on for the cluster and the tables the rollout changes (the backfills leave dead tuples).",
    CONNECTIONS: "max_connections leaves room for dbopt's pool and its dedicated sessions, and some to spare.",
}


@dataclass(frozen=True)
class Thresholds:
    """The preflight's limits; `check` refuses nonsense before anything connects."""

    idle_in_transaction_min_s: float = 1.0
    warn_transaction_age_s: float = 60.0
    no_go_transaction_age_s: float = 300.0
    max_replication_lag_s: float = 10.0
    spare_connections: int = 10
    pool_max_size: int = 8
    min_server_version_num: int = rollout.MIN_SERVER_VERSION_NUM
    statement_timeout_s: float = 10.0

    def check(self, where: str = "the config of postgres_preflight") -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            bound = BOUNDS[f.name]
            place = "the postgres resource's config" if f.name in RESOURCE_FIELDS else where
            ok_type = isinstance(value, int) if bound.integer else isinstance(value, int | float)
            if isinstance(value, bool) or not ok_type or not bound.low <= value <= bound.high:
                kind = "a whole number" if bound.integer else "a number"
                raise DboptError(
                    f"Nothing was checked: {f.name} in {place} is {value!r} but must be {kind} {bound.text()} "
                    f"({bound.why}); fix it in the run's config and launch it again."
                )
        if self.warn_transaction_age_s > self.no_go_transaction_age_s:
            raise DboptError(
                f"Nothing was checked: warn_transaction_age_s in {where} ({self.warn_transaction_age_s:g}) is above "
                f"no_go_transaction_age_s ({self.no_go_transaction_age_s:g}); make the warning threshold the lower one."
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Thresholds that come from the postgres resource rather than the preflight's own config.
RESOURCE_FIELDS = {"pool_max_size", "min_server_version_num"}

BOUNDS: dict[str, rollout.Bound] = {
    "idle_in_transaction_min_s": rollout.Bound(
        0, 3600, "a busy application's transactions sit idle between their statements for moments", integer=False
    ),
    "warn_transaction_age_s": rollout.Bound(1, 7 * 86400, "a transaction is always a few ms old", integer=False),
    "no_go_transaction_age_s": rollout.Bound(1, 7 * 86400, "a transaction is always a few ms old", integer=False),
    "max_replication_lag_s": rollout.Bound(0.1, 86400, "0 would warn on any lag", integer=False),
    "spare_connections": rollout.Bound(0, 10_000, "connections left to the application"),
    "pool_max_size": rollout.BOUNDS["pool_max_size"],
    "min_server_version_num": rollout.BOUNDS["min_server_version_num"],
    "statement_timeout_s": rollout.Bound(1, 600, "0 would let a catalog read run forever", integer=False),
}


def _open(connector: PgConnector) -> psycopg.Connection:
    """A connection of the preflight's own: no prepared statements, read-only transactions."""
    conn = connector.dedicated(autocommit=False)
    conn.prepare_threshold = None
    conn.read_only = True
    return conn


def _query(conn: psycopg.Connection, file: str, t: Thresholds, values: Mapping[str, Any] | None = None) -> list[dict]:
    with conn.transaction():
        sqlrun.query_file(
            conn, f"{SQL}/000_timeouts.sql",
            {"statement_timeout": f"{int(t.statement_timeout_s * 1000)}ms", "lock_timeout": "1s"},
        )
        return sqlrun.query_file(conn, f"{SQL}/{file}", values or {})


def run(connector: PgConnector, thresholds: Thresholds | None = None) -> list[Finding]:
    """Every finding, in FINDINGS order; reads only."""
    t = thresholds or Thresholds()
    t.check()
    tables = list(ROLLOUT_TABLES)
    conn = _open(connector)
    try:
        pooler = transaction_pooler(connector, conn, t)
        server = _query(conn, "010_server.sql", t)[0]
        privileges_rows = _query(conn, "020_privileges.sql", t, {"tables": tables})
        sessions = _query(conn, "030_sessions.sql", t, {"tables": tables})
        replicas = _query(conn, "040_replicas.sql", t)
        autovacuum_off = [r["table_name"] for r in _query(conn, "050_autovacuum.sql", t, {"tables": tables})]
        # The second look: idle in transaction then and now, in the same idle spell.
        again = _query(conn, "030_sessions.sql", t, {"tables": tables})
    finally:
        conn.close()
    return [
        server_version(server, t),
        privileges(privileges_rows, server["role_name"]),
        visibility(server, sessions),
        pooler,
        idle_in_transaction(sessions, t, again=again),
        long_transactions(sessions, t, blind=not server["sees_other_sessions"]),
        replication(server, replicas, t),
        autovacuum(server, autovacuum_off),
        connection_headroom(server, t),
    ]


# --- each finding ---------------------------------------------------------------------------


def server_version(s: Mapping[str, Any], t: Thresholds) -> Finding:
    want = rollout._version(t.min_server_version_num)
    if s["version_num"] < t.min_server_version_num:
        return no_go(
            SERVER_VERSION,
            f"The server runs PostgreSQL {s['version']}, older than PostgreSQL {want}, the oldest this rollout "
            f"supports; upgrade the server first.",
            s["version"], f">= {want}",
        )
    if s["in_recovery"]:
        return no_go(
            SERVER_VERSION,
            f"The server (PostgreSQL {s['version']}) is a standby in recovery, which accepts no schema change; "
            f"point DATABASE_URL at the primary.",
            f"{s['version']} (standby)", "a primary",
        )
    return go(SERVER_VERSION, f"PostgreSQL {s['version']}, a primary: supported.", s["version"], f">= {want}")


def privileges(rows: list[Mapping[str, Any]], role: str) -> Finding:
    missing: list[str] = []
    details = []
    absent = [r["table_name"] for r in rows if not r["present"]]
    if absent:
        return no_go(
            PRIVILEGES,
            f"Tables {', '.join(absent)} do not exist here (or are not on role {role}'s search_path), so DATABASE_URL "
            f"does not hold the contract's baseline; point it at the application's database.",
            f"missing tables: {', '.join(absent)}", "the baseline tables, owned by this role",
        )
    for r in rows:
        table = r["table_name"]
        for need in ROLLOUT_TABLES[table]:
            ok = r["owned"] if need == "owner" else r["owned"] or r[f"can_{need.lower()}"]
            if not ok:
                missing.append(f"ownership of {table} (owned by {r['owner']})" if need == "owner" else f"{need} on {table}")
        details.append({"table": table, "owner": r["owner"], "owned": r["owned"]})
    first = rows[0] if rows else {}
    if first and not first["can_create_in_dbopt"] and not (
        first["can_create_schema"] and not first["dbopt_schema_exists"]
    ):
        missing.append(
            "CREATE on schema dbopt" if first["dbopt_schema_exists"] else "CREATE on the database (for dbopt's schema dbopt)"
        )
    if missing:
        grant = "; ".join(missing)
        return no_go(
            PRIVILEGES,
            f"Role {role} lacks {grant}; run the rollout as the tables' owner (or GRANT the owning role to {role}) "
            f"with CREATE on the database.",
            f"missing: {grant}", "owner of the tables the rollout changes, TRIGGER, UPDATE, CREATE", details,
        )
    return go(
        PRIVILEGES,
        f"Role {role} owns the tables the rollout changes and may create dbopt's schema.",
        "all present", "owner of the tables the rollout changes, TRIGGER, UPDATE, CREATE", details,
    )


def visibility(s: Mapping[str, Any], sessions: list[Mapping[str, Any]] = ()) -> Finding:
    role = s["role_name"]
    if s["sees_other_sessions"]:
        return go(VISIBILITY, f"Role {role} sees other sessions and replication lag.", "yes", "pg_read_all_stats")
    # pg_locks stays visible: name the sessions whose locks are seen but whose state is not.
    hidden = [r for r in sessions if r["state"] is None and r["locked_tables"]]
    unseen = (
        f" (pids {', '.join(str(r['pid']) for r in hidden[:10])} hold locks on tables the rollout changes, in a state "
        f"this role cannot see)" if hidden else ""
    )
    return warn(
        VISIBILITY,
        f"Role {role} lacks pg_read_all_stats (or pg_monitor), so other sessions' transactions and replication lag "
        f"are invisible to this preflight and to the backfill throttle (which then runs blind){unseen}; GRANT "
        f"pg_monitor TO {role}.",
        "no", "pg_read_all_stats", [_session_row(r) for r in hidden],
    )


def _who(r: Mapping[str, Any]) -> str:
    app = r["application_name"] or "no application_name"
    age = f", open {r['xact_age_s']:.0f} s" if r["xact_age_s"] is not None else ""
    return f"pid {r['pid']} (user {r['user_name'] or '?'}, {app}{age})"


def _session_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pid": r["pid"], "user": r["user_name"], "application": r["application_name"], "state": r["state"],
        "age_s": None if r["xact_age_s"] is None else round(r["xact_age_s"], 1),
        "locks": ", ".join(r["locked_tables"] or []),
    }


def _ours(r: Mapping[str, Any]) -> bool:
    return (r["application_name"] or "").startswith("dbopt")


def _idle(r: Mapping[str, Any]) -> bool:
    return (r["state"] or "").startswith("idle in transaction")


def idle_in_transaction(
    sessions: list[Mapping[str, Any]], t: Thresholds, *, again: list[Mapping[str, Any]] | None = None
) -> Finding:
    """Stuck, not between two statements: idle in transaction for at least idle_in_transaction_min_s,
    and still in that same idle spell at the second look (`again`), whatever the transaction's age."""
    still = None if again is None else {(r["pid"], r["state_since"]) for r in again if _idle(r)}
    holding = [
        r for r in sessions
        if _idle(r) and r["locked_tables"] and (r["state_age_s"] or 0) >= t.idle_in_transaction_min_s
        and (still is None or (r["pid"], r["state_since"]) in still)
    ]
    # dbopt's own: a killed run's session, which the server ends after dbopt's
    # idle_in_transaction_session_timeout (another live run is kept out by the rollout lock).
    blocking = [r for r in holding if not _ours(r)]
    if blocking:
        names = "; ".join(f"{_who(r)} holding {', '.join(r['locked_tables'])}" for r in blocking)
        return no_go(
            IDLE_IN_TRANSACTION,
            f"{len(blocking)} session(s) idle in transaction hold locks on tables the rollout changes, so its DDL "
            f"would wait behind them: {names}; end them (commit, or SELECT pg_terminate_backend(pid)) and run again.",
            len(blocking), f"0 idle >= {t.idle_in_transaction_min_s:g} s, whatever their age",
            [_session_row(r) for r in blocking],
        )
    if holding:
        names = "; ".join(_who(r) for r in holding)
        return warn(
            IDLE_IN_TRANSACTION,
            f"dbopt's own session(s) {names} sit idle in transaction holding locks on tables the rollout changes (a "
            f"killed run's); the server ends them after dbopt's idle_in_transaction_timeout_s, and the rollout's DDL "
            f"retries under lock_timeout meanwhile.",
            len(holding), f"0 idle >= {t.idle_in_transaction_min_s:g} s, whatever their age",
            [_session_row(r) for r in holding],
        )
    idle = [r for r in sessions if _idle(r)]
    return go(
        IDLE_IN_TRANSACTION,
        "No session idle in transaction holds a lock on the tables the rollout changes"
        + (f" ({len(idle)} idle in transaction elsewhere)." if idle else "."),
        0, f"0 idle >= {t.idle_in_transaction_min_s:g} s, whatever their age", [_session_row(r) for r in idle],
    )


def long_transactions(sessions: list[Mapping[str, Any]], t: Thresholds, *, blind: bool) -> Finding:
    aged = [r for r in sessions if r["xact_age_s"] is not None]
    oldest = max((r["xact_age_s"] for r in aged), default=0.0)
    threshold = f"warn > {t.warn_transaction_age_s:g} s, no-go > {t.no_go_transaction_age_s:g} s"
    over_no_go = [r for r in aged if r["xact_age_s"] > t.no_go_transaction_age_s]
    over_warn = [r for r in aged if r["xact_age_s"] > t.warn_transaction_age_s]
    rows = [_session_row(r) for r in over_warn]
    if over_no_go:
        return no_go(
            LONG_TRANSACTIONS,
            f"{len(over_no_go)} transaction(s) open longer than {t.no_go_transaction_age_s:g} s: "
            f"{'; '.join(_who(r) for r in over_no_go[:5])}; they block the rollout's DDL and hold back vacuum, "
            f"so wait for them to end (or end them) and run again.",
            f"{oldest:.0f} s", threshold, rows,
        )
    if over_warn:
        return warn(
            LONG_TRANSACTIONS,
            f"{len(over_warn)} transaction(s) open longer than {t.warn_transaction_age_s:g} s: "
            f"{'; '.join(_who(r) for r in over_warn[:5])}; the backfills pause while one is older than their "
            f"max_transaction_age_s.",
            f"{oldest:.0f} s", threshold, rows,
        )
    unseen = " (only this role's own sessions are visible)" if blind else ""
    return go(
        LONG_TRANSACTIONS,
        f"No transaction open longer than {t.warn_transaction_age_s:g} s{unseen}.", f"{oldest:.0f} s", threshold,
    )


def replication(s: Mapping[str, Any], replicas: list[Mapping[str, Any]], t: Thresholds) -> Finding:
    threshold = f"lag <= {t.max_replication_lag_s:g} s"
    rows = [{**r, "replay_lag_s": None if r["replay_lag_s"] is None else round(r["replay_lag_s"], 2)} for r in replicas]
    if not replicas:
        return go(REPLICAS, "No replica streams from this server.", "0 replicas", threshold)
    lags = [r["replay_lag_s"] for r in replicas if r["replay_lag_s"] is not None]
    worst = max(lags, default=0.0)
    if worst > t.max_replication_lag_s:
        lagging = [r["application_name"] or r["client_addr"] for r in replicas if (r["replay_lag_s"] or 0) > t.max_replication_lag_s]
        return warn(
            REPLICAS,
            f"{len(replicas)} replica(s); {', '.join(lagging)} replay(s) {worst:.1f} s behind, over "
            f"{t.max_replication_lag_s:g} s, so the backfills will pause until they catch up.",
            f"{len(replicas)} replicas, max lag {worst:.1f} s", threshold, rows,
        )
    return go(
        REPLICAS, f"{len(replicas)} replica(s), replaying within {t.max_replication_lag_s:g} s.",
        f"{len(replicas)} replicas, max lag {worst:.1f} s", threshold, rows,
    )


POOLER_SENTENCE = (
    "DATABASE_URL leads to a transaction-pooling proxy (PgBouncer in transaction mode or alike: {evidence}), which "
    "breaks the rollout's session advisory locks, session settings and prepared statements; point DATABASE_URL at "
    "the PostgreSQL server itself or at a session-mode pool."
)


def transaction_pooler(connector: PgConnector, first: psycopg.Connection, t: Thresholds) -> Finding:
    """Is one client connection one server session? On a server it always is.

    A session setting is made on this connection, then a second connection and this one
    each read, in transactions of their own, which server session answers and whether it
    holds the setting. Through a transaction pooler either this connection moves to
    another server session (new pid, setting gone) or the other client lands on this
    one's (same pid, setting seen). Never holds a transaction open while waiting, so a
    pool of one server connection cannot deadlock the probe."""
    token = secrets.token_hex(8)
    a1 = _query(first, "070_probe_read.sql", t)[0]
    _query(first, "060_probe_set.sql", t, {"token": token})
    second = _open(connector)
    try:
        b = _query(second, "070_probe_read.sql", t)[0]
    finally:
        second.close()
    a2 = _query(first, "070_probe_read.sql", t)[0]
    evidence = []
    if a2["pid"] != a1["pid"]:
        evidence.append(f"one connection was answered by backend pids {a1['pid']} then {a2['pid']}")
    if a2["token"] != token:
        evidence.append("a session SET did not survive to the next transaction")
    if b["pid"] == a1["pid"] or b["token"] == token:
        evidence.append(f"two connections were answered by the same backend pid {b['pid']}")
    threshold = "one server session per connection"
    if evidence:
        return no_go(POOLER, POOLER_SENTENCE.format(evidence="; ".join(evidence)), "transaction pooling", threshold)
    return go(POOLER, "Each connection keeps its own server session (no transaction pooler).", "session per connection", threshold)


def autovacuum(s: Mapping[str, Any], tables_off: list[str]) -> Finding:
    threshold = "on for the cluster and each table"
    off = (["the whole cluster (autovacuum = off)"] if s["autovacuum"] != "on" else []) + [
        f"{t} (autovacuum_enabled = false)" for t in tables_off
    ]
    if off:
        fix = "ALTER SYSTEM SET autovacuum = on and SELECT pg_reload_conf()" if s["autovacuum"] != "on" else ""
        if tables_off:
            fix += (", and " if fix else "") + f"ALTER TABLE ... RESET (autovacuum_enabled) on {', '.join(tables_off)}"
        return warn(
            AUTOVACUUM,
            f"autovacuum is off for {' and '.join(off)}, so the dead tuples the backfills leave behind are never "
            f"reclaimed; {fix}, or VACUUM those tables by hand after the rollout.",
            "off for " + ", ".join((["cluster"] if s["autovacuum"] != "on" else []) + tables_off), threshold,
        )
    return go(AUTOVACUUM, "autovacuum is on for the cluster and the tables the rollout changes.", "on", threshold)


def connection_headroom(s: Mapping[str, Any], t: Thresholds) -> Finding:
    needed = t.pool_max_size + EXTRA_CONNECTIONS
    free = s["max_connections"] - s["superuser_reserved"] - s["reserved"] - s["connections_now"]
    limits = [("max_connections", free)]
    if s["role_connection_limit"] >= 0:
        limits.append((f"role {s['role_name']}'s CONNECTION LIMIT", s["role_connection_limit"] - s["role_connections_now"]))
    if s["database_connection_limit"] >= 0:
        limits.append(("the database's CONNECTION LIMIT", s["database_connection_limit"] - s["database_connections_now"]))
    where, room = min(limits, key=lambda x: x[1])
    # This preflight's own connection is counted in connections_now but is closed before the rollout.
    room += 1
    value = f"{room} free under {where}"
    threshold = (
        f"no-go < {MIN_CONNECTIONS}; warn < {needed} for dbopt (pool {t.pool_max_size} + {EXTRA_CONNECTIONS}) "
        f"+ {t.spare_connections} spare"
    )
    if room < MIN_CONNECTIONS:
        return no_go(
            CONNECTIONS,
            f"Only {room} connection(s) are free under {where} ({s['connections_now']} in use of max_connections "
            f"{s['max_connections']}), fewer than the {MIN_CONNECTIONS} a rollout cannot run without; end idle "
            f"sessions or raise the limit.",
            value, threshold,
        )
    if room < needed + t.spare_connections:
        return warn(
            CONNECTIONS,
            f"{room} connection(s) are free under {where}: dbopt's up to {needed} would leave the application fewer "
            f"than {t.spare_connections}; lower pool_max_size of the postgres resource or raise the limit.",
            value, threshold,
        )
    return go(CONNECTIONS, f"{room} connections free under {where}; dbopt needs {needed}.", value, threshold)
