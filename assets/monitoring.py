"""Monitoring after the rollout (the plan's "Monitoring Post-Deployment"), group `operations`.

Each asset is a measurement, refreshed on a schedule (pipelines/schedules.py); its figures
are Dagster metadata, and the numeric ones (p99, utilization, hit rate, partitions, drift
counts) are plotted over time on the asset's page. The alerts judge these figures in
asset checks (checks/alerts_*.py); sensors turn firing alerts into remedy runs.
Nothing here changes the databases, so there is nothing to roll back.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import catalog, partitions
from dbopt.monitoring import connections, drift, latency, redis_stats
from dbopt.monitoring.samples import SampleStore
from pipelines.clickhouse_steps import POOL as CLICKHOUSE_POOL
from pipelines.clickhouse_steps import connect as clickhouse_connect
from pipelines.failures import operator_errors
from pipelines.metadata import OWNERS, numbers, sql_references, table_of
from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource


def common(system: str) -> dict[str, Any]:
    """What every monitoring asset declares: group, kind, owners, tags."""
    return {
        "group_name": "operations",
        "kinds": {system},
        "owners": OWNERS,
        "tags": {"system": system, "dbopt/monitoring": "true"},
    }



def jsonable(rows: list[dict[str, Any]], limit: int = 20) -> dg.MetadataValue:
    """Rows as JSON metadata (uuids, timestamps and numerics as text), for the checks to read."""

    def plain(v: Any) -> Any:
        if isinstance(v, UUID | datetime | date | Decimal):
            return str(v)
        return v

    return dg.MetadataValue.json([{k: plain(v) for k, v in r.items()} for r in rows[:limit]])


def figures(values: dict[str, Any]) -> dict[str, dg.MetadataValue]:
    """Typed metadata, leaving out figures that could not be measured (None)."""
    return numbers({k: v for k, v in values.items() if v is not None})


# --- PostgreSQL ----------------------------------------------------------------------------------


@dg.asset(
    **common("postgres"),
    metadata=sql_references(
        "postgres/monitoring/plan_top_statements.sql",
        "postgres/monitoring/statements.sql",
        "postgres/monitoring/stat_statements_state.sql",
    ),
    description=(
        "Query performance from pg_stat_statements (plan: Monitoring Post-Deployment, 1): the plan's query (calls, "
        "mean and total time of statements over 50 ms since the statistics reset) and, over the interval since the "
        "previous sample, calls, mean and an estimated p99 with its method (pg_stat_statements has mean, stddev, "
        "min and max per statement, no histogram). Reads catalog views only: no lock on application tables, "
        "changes nothing (no rollback). Needs pg_stat_statements preloaded and created in the database; otherwise "
        "it says so in one sentence."
    ),
)
@operator_errors
def postgres_query_performance(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    connector = postgres.connector()
    with connector.connection() as conn:
        report = latency.measure(conn, SampleStore(), f"pg_stat_statements:{connector.safe_url}")
    if not report.available:
        context.log.warning(report.reason)
        return dg.MaterializeResult(metadata={"unavailable": dg.MetadataValue.text(report.reason)})
    p99 = report.p99_ms
    context.log.info(
        f"{report.calls:,} calls {report.window}; p99 ~{p99 or 0:,.1f} ms (estimated), mean {report.mean_ms or 0:,.2f} ms"
    )
    return dg.MaterializeResult(metadata={
        **figures({
            "p99_ms": None if p99 is None else round(p99, 3),
            "mean_ms": None if report.mean_ms is None else round(report.mean_ms, 3),
            "max_ms": None if report.max_ms is None else round(report.max_ms, 3),
            "calls": report.calls,
            "statements": len(report.statements),
            "interval_s": None if report.interval_s is None else round(report.interval_s, 1),
            "window": report.window,
            "p99_method": latency.METHOD,
        }),
        "slowest_statements": table_of(report.slowest()),
        "plan_top_statements": table_of(report.plan_top),
    })


@dg.asset(
    **common("postgres"),
    metadata=sql_references(
        "postgres/monitoring/connections.sql",
        "postgres/monitoring/connections_by_application.sql",
        "postgres/monitoring/connection_limits.sql",
    ),
    description=(
        "Connection pool health (plan: Monitoring Post-Deployment, 2): client connections to the server by state "
        "(active, idle, idle in transaction) against max_connections, which every service's pool shares; who holds "
        "them (database, application); sessions waiting on a lock; and dbopt's own pool (size, idle, in use, "
        "requests waiting). Reads pg_stat_activity only: no lock, changes nothing (no rollback)."
    ),
)
@operator_errors
def postgres_connections(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    connector = postgres.connector()
    with connector.connection() as conn:
        report = connections.measure(conn, connector)
    context.log.info(
        f"{report.connections} of {report.max_connections} connections ({report.utilization_pct:.1f}%), "
        f"{report.state('active')} active, {report.waiting_on_lock} waiting on a lock"
    )
    pool = report.pool_figures()
    return dg.MaterializeResult(metadata={
        **figures({
            "utilization_pct": round(report.utilization_pct, 2),
            "connections": report.connections,
            "max_connections": report.max_connections,
            "superuser_reserved_connections": report.superuser_reserved,
            "active": report.state("active"),
            "idle": report.state("idle"),
            "idle_in_transaction": report.state("idle in transaction")
            + report.state("idle in transaction (aborted)"),
            "oldest_idle_in_transaction_s": round(report.oldest_idle_in_transaction_s, 1),
            "waiting_on_lock": report.waiting_on_lock,
        }),
        **{f"dbopt_{k}": dg.MetadataValue.int(v) for k, v in pool.items()},
        "by_state": table_of(report.by_state),
        "by_application": table_of(report.by_application),
    })


class DriftConfig(dg.Config):
    sample: int = Field(
        default=2000,
        description="Conversations sampled at random (plus the 10 largest) for the counter and sequence checks.",
    )


@dg.asset(
    **common("postgres"),
    metadata=sql_references(
        "postgres/checks/conversation_counters/mismatch.sql",
        "postgres/monitoring/sequence_anomalies.sql",
        "postgres/checks/query_indexes/invalid.sql",
        "postgres/monitoring/phase1_state.sql",
    ),
    description=(
        "Drift after Phase 1, by sampling (so that corruption after the rollout is noticed): conversations whose "
        "member_count / last_message_* differ from a recount, conversations whose sequence counter is behind their "
        "highest number or that hold unnumbered or twice-used numbers, and INVALID indexes on the application's "
        "tables. Each question is one read-only statement over a random sample of conversations plus the largest "
        "(index lookups per sampled conversation; no lock beyond MVCC reads); counters and sequence numbers are "
        "sampled only once Phase 1 applied them. Changes nothing (no rollback)."
    ),
)
@operator_errors
def postgres_drift(context: dg.AssetExecutionContext, config: DriftConfig, postgres: PostgresResource) -> dg.MaterializeResult:
    with postgres.connector().connection() as conn:
        report = drift.measure(conn, config.sample)
    state = report.state
    invalid = report.invalid_indexes
    context.log.info(
        f"sampled {config.sample} conversations: {len(report.counters)} with wrong counters, {len(report.sequence)} "
        f"with sequence anomalies; {len(invalid)} INVALID index(es)"
    )
    return dg.MaterializeResult(metadata={
        **figures({
            "sample": config.sample,
            "counters_sampled": state.counters,
            "sequence_sampled": state.sequence,
            "sequence_not_null": state.sequence_not_null,
            **(report.counter_counts if state.counters else {}),
            **({"conversations_with_sequence_anomalies": len(report.sequence), **report.sequence_counts}
               if state.sequence else {}),
            "invalid_indexes": len(invalid),
            "invalid_indexes_rebuildable": sum(1 for r in invalid if r["rebuildable"]),
        }),
        "counter_rows": jsonable(report.counters),
        "sequence_rows": jsonable(report.sequence),
        "invalid_index_rows": jsonable(invalid, limit=100),
    })


# --- Redis ---------------------------------------------------------------------------------------


@dg.asset(
    **common("redis"),
    description=(
        "Cache hit rate (plan: Monitoring Post-Deployment, 3) from Redis INFO stats, as hits / (hits + misses) over "
        "the interval since the previous sample, not since the server started (a lifetime average hides a cache "
        "emptied an hour ago). The previous sample is kept per server run id in the data folder; the first sample "
        "of a server has no interval yet. Also keys, evictions and memory. INFO is O(1) and read-only: no impact, "
        "nothing to roll back."
    ),
)
@operator_errors
def redis_cache_hit_rate(context: dg.AssetExecutionContext, redis: RedisResource) -> dg.MaterializeResult:
    report = redis_stats.measure(redis.client(), SampleStore())
    rate = report.hit_rate_pct
    context.log.info(
        f"hit rate {'-' if rate is None else f'{rate:.1f}%'} ({report.lookups if report.lookups is not None else '-'} "
        f"lookups) {report.window}"
    )
    since = report.since_start_hit_rate_pct
    return dg.MaterializeResult(metadata=figures({
        "hit_rate_pct": None if rate is None else round(rate, 2),
        "lookups": report.lookups,
        "hits": report.hits,
        "misses": report.misses,
        "evicted_keys": report.evicted,
        "interval_s": None if report.interval_s is None else round(report.interval_s, 1),
        "window": report.window,
        "since_start_hit_rate_pct": None if since is None else round(since, 2),
        "uptime_s": report.uptime_s,
        "keys": report.keys,
        "used_memory_bytes": report.used_memory,
        "maxmemory_bytes": report.maxmemory,
        "invalidation_errors": report.invalidation_errors,
    }))


# --- ClickHouse ----------------------------------------------------------------------------------


@dg.asset(
    **common("clickhouse"),
    pool=CLICKHOUSE_POOL,
    metadata=sql_references("clickhouse/phase1/common/partitions.sql"),
    description=(
        "ClickHouse partitions per table (active parts with rows only, as the plan's alert counts them), with rows, "
        "bytes on disk, and the oldest and newest partition. Reads system.parts: no lock, no impact on writers, "
        "changes nothing (no rollback). In pool clickhouse (chDB: one process per data folder)."
    ),
)
@operator_errors
def clickhouse_partitions(context: dg.AssetExecutionContext, clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    ch, _ddl = clickhouse_connect(clickhouse)
    counts = partitions.partition_counts(ch)
    rows = []
    for table, count in counts.items():
        parts = catalog.partitions(ch, table)
        rows.append({
            "table": table,
            "partitions": count,
            "rows": sum(int(p["part_rows"]) for p in parts),
            "bytes_on_disk": sum(int(p["part_bytes"]) for p in parts),
            "oldest": parts[0]["partition_id"] if parts else "-",
            "newest": parts[-1]["partition_id"] if parts else "-",
        })
    most = max(counts.values(), default=0)
    context.log.info(f"partitions per table: {json.dumps(counts)}")
    return dg.MaterializeResult(metadata={
        "max_partitions": dg.MetadataValue.int(most),
        "tables": dg.MetadataValue.int(len(counts)),
        "partition_counts": dg.MetadataValue.json(counts),
        "partitions_per_table": table_of(rows),
    })
