"""Where each database stands: reachable or not, baseline or not, which steps are applied.

Read by `dbopt status`; every line is safe to print (no password, no client query).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from dbopt.errors import DboptError
from dbopt.secrets import redact_url


@dataclass
class SystemStatus:
    name: str
    where: str
    ok: bool
    summary: str
    steps: list[dict[str, Any]] = field(default_factory=list)


def postgres_status(url: str | None = None) -> SystemStatus:
    from dbopt.postgres import baseline, ledger
    from dbopt.postgres.connect import connect

    url = url or os.environ.get("DATABASE_URL")
    if not url:
        from dbopt.embedded.postgres import EmbeddedPostgres

        server = EmbeddedPostgres.default()
        if not server.is_running():
            return SystemStatus("PostgreSQL", "embedded (not running)", False, "run `dbopt up` to start it")
        url = server.url()
        where = f"embedded, {redact_url(url)}"
    else:
        where = redact_url(url)
    try:
        with connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            state = baseline.inspect(conn)
            entries = ledger.status(conn)
    except DboptError as exc:
        return SystemStatus("PostgreSQL", where, False, str(exc))
    if state.missing:
        summary = f"PostgreSQL {version}; baseline tables missing ({', '.join(state.missing)}): run `dbopt seed`"
        return SystemStatus("PostgreSQL", where, False, summary)
    rows = state.estimated_rows
    summary = f"PostgreSQL {version}; baseline present (~{rows.get('messages', 0):,} messages, ~{rows.get('posts', 0):,} posts)"
    steps = [
        {"step": e.step, "state": e.outcome, "finished_at": e.finished_at, "detail": e.detail or ""}
        for e in entries
        if not e.step.startswith("rollback/")
    ]
    return SystemStatus("PostgreSQL", where, True, summary, steps)


def clickhouse_status(url: str | None = None) -> SystemStatus:
    from dbopt.clickhouse.client import connect
    from dbopt.clickhouse.ledger import read_status

    client = connect(url)
    where = client.target.safe_url if client.backend == "http" else f"chDB, {client.target.path}"
    try:
        version = client.scalar("SELECT version()")
        tables = client.scalar(
            "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN "
            "('posts_cdc', 'likes_cdc', 'comments_cdc', 'shares_cdc', 'follows_cdc', 'impressions')"
        )
        steps = read_status(client)
    except DboptError as exc:
        return SystemStatus("ClickHouse", where, False, str(exc))
    finally:
        client.close()
    if tables < 6:
        return SystemStatus("ClickHouse", where, False, f"ClickHouse {version}; baseline CDC tables missing: run `dbopt seed`")
    return SystemStatus("ClickHouse", where, True, f"ClickHouse {version}; baseline CDC tables present", steps)


def redis_status(url: str | None = None) -> SystemStatus:
    import redis

    url = url or os.environ.get("REDIS_URL")
    if not url:
        from dbopt.embedded.redis import EmbeddedRedis

        server = EmbeddedRedis.default()
        if not server.is_running():
            return SystemStatus("Redis", "embedded (not running)", False, "run `dbopt up` to start it")
        url = server.url()
        where = f"embedded, {redact_url(url)}"
    else:
        where = redact_url(url)
    try:
        client = redis.Redis.from_url(url, socket_timeout=3)
        info = client.info("server")
        keys = client.dbsize()
    except (redis.exceptions.RedisError, ValueError) as exc:
        return SystemStatus("Redis", where, False, f"not reachable ({type(exc).__name__}); check REDIS_URL")
    return SystemStatus("Redis", where, True, f"Redis {info.get('redis_version')}; {keys:,} keys")
