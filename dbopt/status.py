"""Where each database stands: reachable or not, baseline or not, which steps are applied.

Read by `dbopt status`; every line is safe to print (no password, no client query).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbopt import urls
from dbopt.errors import DboptError


@dataclass
class SystemStatus:
    name: str
    where: str
    ok: bool
    summary: str
    steps: list[dict[str, Any]] = field(default_factory=list)


def _resolved(name: str, resolve: Callable[[], urls.Endpoint]) -> urls.Endpoint | SystemStatus:
    """The endpoint, or the status that says why there is none to connect to: a URL refused
    before any connection (its message shows it redacted), or dbopt's own server stopped."""
    try:
        endpoint = resolve()
    except DboptError as exc:
        return SystemStatus(name, "(refused)", False, str(exc))
    if endpoint.url is None:
        return SystemStatus(name, endpoint.where, False, "run `dbopt up` to start it")
    return endpoint


def postgres_status(url: str | None = None) -> SystemStatus:
    from dbopt.postgres import baseline, ledger
    from dbopt.postgres.connect import connect

    endpoint = _resolved("PostgreSQL", lambda: urls.postgres(url, start=False))
    if isinstance(endpoint, SystemStatus):
        return endpoint
    try:
        with connect(endpoint.url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            state = baseline.inspect(conn)
            entries = ledger.status(conn)
    except DboptError as exc:
        return SystemStatus("PostgreSQL", endpoint.where, False, endpoint.scrub(str(exc)))
    where = endpoint.where
    if state.missing:
        summary = f"PostgreSQL {version}; baseline tables missing ({', '.join(state.missing)}): run `dbopt seed`"
        return SystemStatus("PostgreSQL", where, False, summary)
    rows = state.estimated_rows
    summary = f"PostgreSQL {version}; baseline present (~{rows.get('messages', 0):,} messages, ~{rows.get('posts', 0):,} posts)"
    steps = [
        {"step": e.step, "state": e.outcome, "finished_at": e.finished_at, "detail": endpoint.scrub(e.detail or "")}
        for e in entries
        # The plan's receipt is shown by postgres_receipt, not as a step.
        if not e.step.startswith("rollback/") and e.step != "postgres_plan/receipt"
    ]
    return SystemStatus("PostgreSQL", where, True, summary, steps)


def clickhouse_status(url: str | None = None) -> SystemStatus:
    from dbopt.clickhouse.client import connect
    from dbopt.clickhouse.ledger import read_status

    endpoint = _resolved("ClickHouse", lambda: urls.clickhouse(url))
    if isinstance(endpoint, SystemStatus):
        return endpoint
    client = connect(endpoint.url)
    where = client.target.safe_url if client.backend == "http" else f"chDB, {client.target.path}"
    try:
        version = client.scalar("SELECT version()")
        tables = client.scalar(
            "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN "
            "('posts_cdc', 'likes_cdc', 'comments_cdc', 'shares_cdc', 'follows_cdc', 'impressions')"
        )
        # The plan's receipt is shown by clickhouse_receipt, not as a step.
        steps = [s for s in read_status(client) if s["step"] != "clickhouse.plan_receipt"]
    except DboptError as exc:
        return SystemStatus("ClickHouse", where, False, endpoint.scrub(str(exc)))
    finally:
        client.close()
    if tables < 6:
        return SystemStatus("ClickHouse", where, False, f"ClickHouse {version}; baseline CDC tables missing: run `dbopt seed`")
    return SystemStatus("ClickHouse", where, True, f"ClickHouse {version}; baseline CDC tables present", steps)


def redis_status(url: str | None = None) -> SystemStatus:
    import redis

    endpoint = _resolved("Redis", lambda: urls.redis(url, start=False))
    if isinstance(endpoint, SystemStatus):
        return endpoint
    try:
        client = urls.redis_client(endpoint, socket_timeout=3)
        info = client.info("server")
        keys = client.dbsize()
    except DboptError as exc:
        return SystemStatus("Redis", endpoint.where, False, str(exc))
    except redis.exceptions.RedisError as exc:
        return SystemStatus("Redis", endpoint.where, False, f"Redis failed ({type(exc).__name__}); check REDIS_URL")
    return SystemStatus("Redis", endpoint.where, True, f"Redis {info.get('redis_version')}; {keys:,} keys")


def clickhouse_receipt(url: str | None = None) -> list[str]:
    """The last phase1_clickhouse receipt (clickhouse_plan's prediction against what each step
    took), as lines for `dbopt status`; empty when there is none or ClickHouse is not reachable."""
    import json

    from dbopt import sqlfiles
    from dbopt.clickhouse import catalog, rollout_plan
    from dbopt.clickhouse.client import connect

    try:
        endpoint = urls.clickhouse(url)
    except DboptError:
        return []
    if endpoint.url is None:
        return []
    client = connect(endpoint.url)
    try:
        if catalog.table(client, "dbopt_ledger") is None:
            return []
        found = client.dicts(sqlfiles.read(f"{rollout_plan.DIR}/070_latest_receipt.sql"))
    except DboptError:
        return []
    finally:
        client.close()
    if not found:
        return []
    detail = json.loads(found[0]["detail"])
    when = f"{found[0]['finished_at']:%Y-%m-%d %H:%M}" if found[0].get("finished_at") else "-"
    return [f"  plan receipt of run {str(detail.get('run_id', ''))[:8]} ({when}), predicted against actual:",
            *rollout_plan.format_receipt(detail.get("rows", []))]


def postgres_receipt(url: str | None = None) -> list[str]:
    """The last phase1_postgres receipt (postgres_plan's prediction against what each step took),
    as lines for `dbopt status`; empty when there is none or PostgreSQL is not reachable."""
    from dbopt.postgres import rollout_plan
    from dbopt.postgres.connect import connect

    try:
        endpoint = urls.postgres(url, start=False)
    except DboptError:
        return []
    if endpoint.url is None:
        return []
    try:
        with connect(endpoint.url) as conn:
            found = rollout_plan.latest_receipt(conn)
    except DboptError:
        return []
    if not found:
        return []
    detail, finished = found
    when = f"{finished:%Y-%m-%d %H:%M}" if finished else "-"
    return [f"  plan receipt of run {str(detail.get('run_id', ''))[:8]} ({when}), predicted against actual:",
            *rollout_plan.format_receipt(detail.get("rows", []))]
