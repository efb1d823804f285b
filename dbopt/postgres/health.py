"""Is the database healthy enough for the next backfill batch?

GitLab's batched background migrations pause on the same signals: sessions queueing for
locks on the tables being changed, long-running transactions (they hold back vacuum, so
every batch adds bloat nobody can clean), and replication lag.

Other sessions' transactions and the replicas' lag are visible only to a role with the
privileges of pg_read_all_stats (pg_monitor includes it); without them they read as NULL.
`blind_spot` says so at the start of a backfill, which then treats "cannot see" as a reason
to be careful, never as "healthy".
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class ThrottleSettings:
    max_lock_waiters: int = 0
    max_transaction_age_s: float = 300.0
    max_replication_lag_s: float = 10.0
    pause_s: float = 1.0
    max_pause_s: float = 900.0


_SQL = """
SELECT
  (SELECT count(*) FROM pg_locks l
    WHERE NOT l.granted AND l.relation = ANY (%(rels)s::regclass[])) AS lock_waiters,
  (SELECT max(extract(epoch FROM clock_timestamp() - a.xact_start))::float8 FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.backend_type = 'client backend'
      AND a.xact_start IS NOT NULL AND a.state <> 'idle' AND a.pid <> pg_backend_pid()
      AND a.application_name NOT LIKE 'dbopt%%') AS oldest_xact_s,
  (SELECT pid FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.backend_type = 'client backend'
      AND a.xact_start IS NOT NULL AND a.state <> 'idle' AND a.pid <> pg_backend_pid()
      AND a.application_name NOT LIKE 'dbopt%%'
    ORDER BY a.xact_start LIMIT 1) AS oldest_xact_pid,
  (SELECT COALESCE(max(extract(epoch FROM replay_lag)), 0)::float8 FROM pg_stat_replication) AS replication_lag_s
"""


def reasons_to_pause(conn: psycopg.Connection, tables: list[str], settings: ThrottleSettings) -> list[str]:
    """Why the next batch should wait; empty when the database is healthy."""
    waiters, oldest, oldest_pid, lag = conn.execute(_SQL, {"rels": tables}).fetchone()
    reasons = []
    if waiters > settings.max_lock_waiters:
        reasons.append(f"{waiters} session(s) waiting for locks on {', '.join(tables)}")
    if oldest is not None and oldest > settings.max_transaction_age_s:
        reasons.append(f"transaction of pid {oldest_pid} open for {oldest:.0f} s holds back vacuum")
    if lag and lag > settings.max_replication_lag_s:
        reasons.append(f"replication lag {lag:.1f} s")
    return reasons


_VISIBILITY_SQL = """
SELECT r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')
FROM pg_roles r WHERE r.rolname = current_user
"""


def blind_spot(conn: psycopg.Connection) -> str | None:
    """Why the throttle cannot see the database's health, or None when it can."""
    row = conn.execute(_VISIBILITY_SQL).fetchone()
    if row and row[0]:
        return None
    user = conn.info.user
    return (
        f"role {user} lacks pg_read_all_stats (or pg_monitor), so other sessions' transactions and replication lag "
        f"are invisible to the throttle; GRANT pg_monitor TO {user} to let it see them"
    )
