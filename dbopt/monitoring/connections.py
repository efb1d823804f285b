"""Connection health: the server's connections by state against max_connections, and dbopt's pool.

The plan logs its service pool's size and idle count every minute. From the database side
the same question has a sharper form: every client pool of every service shares the
server's `max_connections`, and when they reach it new connections are refused. So the
pool-utilization alert measures client connections / max_connections; dbopt's own pool
(`PgConnector.pool_stats()`: size, idle, in use, being opened, waiting requests) is reported
beside it. "In use" is what the connector has handed out, not size - idle: the pool's size
also counts connections it is still opening (a request that finds the pool empty makes it
grow while the first connection is still on its way), which read as "in use" for a moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbopt.postgres.connect import PgConnector
from dbopt.postgres.sqlrun import query_file

DIR = "postgres/monitoring"


@dataclass
class ConnectionReport:
    max_connections: int
    superuser_reserved: int
    by_state: list[dict[str, Any]]
    by_application: list[dict[str, Any]]
    pool: dict[str, int] = field(default_factory=dict)

    @property
    def connections(self) -> int:
        return sum(int(r["connections"]) for r in self.by_state)

    @property
    def utilization_pct(self) -> float:
        return 100.0 * self.connections / self.max_connections if self.max_connections else 0.0

    @property
    def waiting_on_lock(self) -> int:
        return sum(int(r["waiting_on_lock"]) for r in self.by_state)

    def state(self, name: str) -> int:
        return sum(int(r["connections"]) for r in self.by_state if r["state"] == name)

    @property
    def oldest_idle_in_transaction_s(self) -> float:
        return max((float(r["oldest_transaction_s"]) for r in self.by_state
                    if r["state"].startswith("idle in transaction")), default=0.0)

    def pool_figures(self) -> dict[str, int]:
        """dbopt's pool: max size, connections (open or being opened), idle ones, in use, being
        opened, requests waiting for one."""
        p = self.pool
        if not p:
            return {}
        size, idle, in_use = int(p.get("pool_size", 0)), int(p.get("pool_available", 0)), int(p.get("connections_lent", 0))
        return {
            "pool_max": int(p.get("pool_max", 0)),
            "pool_size": size,
            "pool_idle": idle,
            "pool_in_use": in_use,
            "pool_opening": max(0, size - idle - in_use),
            "requests_waiting": int(p.get("requests_waiting", 0)),
        }


def measure(conn: psycopg.Connection, connector: PgConnector) -> ConnectionReport:
    """Read while holding one of the pool's connections, so the pool shows that use."""
    limits = query_file(conn, f"{DIR}/connection_limits.sql")[0]
    return ConnectionReport(
        max_connections=int(limits["max_connections"]),
        superuser_reserved=int(limits["superuser_reserved_connections"]),
        by_state=query_file(conn, f"{DIR}/connections.sql"),
        by_application=query_file(conn, f"{DIR}/connections_by_application.sql"),
        pool=connector.pool_stats(),
    )
