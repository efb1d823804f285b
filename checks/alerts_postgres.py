"""The plan's PostgreSQL alerts: "Query latency p99 > 500ms", "Connection pool utilization > 80%".

Neither has a safe automatic remedy (their sensors say why); both show value and threshold.
"""

import dagster as dg
from pydantic import Field

from dbopt.monitoring.alerts import POOL_UTILIZATION, QUERY_LATENCY
from pipelines.alert_checks import Measurement, alert_check, alert_result


class QueryLatencyAlertConfig(dg.Config):
    p99_ms_above: float = Field(default=QUERY_LATENCY.threshold, description="Fire when the estimated p99 exceeds this.")
    min_calls: int = Field(
        default=50, description="Fewer calls in the window are too few to judge a p99 (the check passes with a note)."
    )


@alert_check(
    QUERY_LATENCY,
    QueryLatencyAlertConfig,
    description=(
        f"Alert: query latency p99 above {QUERY_LATENCY.threshold:g} ms (the plan), over the window of "
        "postgres_query_performance (the interval since its previous sample). The p99 is estimated from "
        "pg_stat_statements (method in the asset's metadata). No automatic remedy."
    ),
)
def query_latency_alert(measured: Measurement, config: QueryLatencyAlertConfig) -> dg.AssetCheckResult:
    p99, calls = measured.get("p99_ms"), int(measured.get("calls", 0) or 0)
    note = ""
    if measured.get("unavailable"):
        note = measured.get("unavailable")
    elif p99 is None:
        note = "no statement ran in the window"
    elif calls < config.min_calls:
        p99, note = None, f"only {calls} calls in the window; a p99 needs at least {config.min_calls}"
    return alert_result(
        QUERY_LATENCY,
        measured,
        value=p99,
        threshold=config.p99_ms_above,
        note=note,
        offending=[{"p99_ms": p99, "calls": calls, "max_ms": measured.get("max_ms"), "window": measured.get("window")}],
        next_step=(
            "Look at slowest_statements of postgres_query_performance: EXPLAIN (ANALYZE, BUFFERS) the slowest, and "
            "check lock waits in postgres_connections. Nothing is launched automatically."
        ),
    )


class PoolUtilizationAlertConfig(dg.Config):
    utilization_pct_above: float = Field(
        default=POOL_UTILIZATION.threshold, description="Fire when client connections / max_connections exceed this (%)."
    )


@alert_check(
    POOL_UTILIZATION,
    PoolUtilizationAlertConfig,
    description=(
        f"Alert: connection pool utilization above {POOL_UTILIZATION.threshold:g}% (the plan): client connections "
        "over max_connections, the ceiling every service's pool shares (dbopt's own pool is shown beside it). "
        "No automatic remedy."
    ),
)
def pool_utilization_alert(measured: Measurement, config: PoolUtilizationAlertConfig) -> dg.AssetCheckResult:
    return alert_result(
        POOL_UTILIZATION,
        measured,
        value=measured.get("utilization_pct"),
        threshold=config.utilization_pct_above,
        offending=[{k: measured.get(k) for k in ("connections", "max_connections", "active", "idle",
                                                 "idle_in_transaction", "waiting_on_lock")}],
        next_step=(
            "See by_application of postgres_connections for who holds the connections: lower the services' pool "
            "sizes, put a pooler (PgBouncer) in front, or end sessions idle in transaction. Nothing is launched "
            "automatically."
        ),
    )
