"""The alerts: the plan's four ("Alerts to Configure") and the drift alerts.

Each alert is an asset check on a monitoring asset (checks/alerts_*.py) that shows its
value and its threshold; the threshold here is the default of the check's config. Each
alert has a sensor (pipelines/sensors.py) that launches its remedy job when it fires, or
says why it launches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Alert:
    name: str
    asset: str  # the monitoring asset the check is on
    check: str  # the asset check that evaluates it
    plan: str  # what it watches, in the plan's words
    threshold: float
    unit: str
    fires: str  # "above" or "below" the threshold
    remedy_job: str | None = None  # the job its sensor launches
    no_remedy: str = ""  # why nothing is launched automatically, when remedy_job is None

    def fires_at(self, value: float, threshold: float | None = None) -> bool:
        limit = self.threshold if threshold is None else threshold
        return value > limit if self.fires == "above" else value < limit

    def describe(self, value: float | None, threshold: float | None = None) -> str:
        limit = self.threshold if threshold is None else threshold
        shown = "not measured" if value is None else f"{value:,.4g}{self.unit}"
        return f"{self.plan} is {shown} (alert {self.fires} {limit:,.4g}{self.unit})"


QUERY_LATENCY = Alert(
    name="query_latency",
    asset="postgres_query_performance",
    check="query_latency_alert",
    plan="query latency p99",
    threshold=500,
    unit=" ms",
    fires="above",
    no_remedy=(
        "slow queries have no safe automatic remedy: the cause (a missing index, a bad plan, lock waits, load) "
        "needs a person; see the slowest statements in postgres_query_performance"
    ),
)
POOL_UTILIZATION = Alert(
    name="pool_utilization",
    asset="postgres_connections",
    check="pool_utilization_alert",
    plan="connection pool utilization",
    threshold=80,
    unit="%",
    fires="above",
    no_remedy=(
        "a full connection pool has no safe automatic remedy: ending sessions would fail the application's "
        "requests, and raising max_connections needs a restart; see who holds the connections in postgres_connections"
    ),
)
CACHE_HIT_RATE = Alert(
    name="cache_hit_rate",
    asset="redis_cache_hit_rate",
    check="cache_hit_rate_alert",
    plan="cache hit rate",
    threshold=70,
    unit="%",
    fires="below",
    remedy_job="warm_cache",
)
PARTITION_COUNT = Alert(
    name="partition_count",
    asset="clickhouse_partitions",
    check="partition_count_alert",
    plan="ClickHouse partitions per table (the most of any table)",
    threshold=36,
    unit="",
    fires="above",
    remedy_job="partition_cleanup",
)


def _drift(name: str, plan: str, remedy_job: str) -> Alert:
    """A drift alert: a check on postgres_drift that fires on any drift found (threshold 0)."""
    return Alert(name=name, asset="postgres_drift", check=f"{name}_alert", plan=plan, threshold=0, unit="",
                 fires="above", remedy_job=remedy_job)


COUNTER_DRIFT = _drift("counter_drift", "sampled conversations whose counters differ from a recount",
                       "reconcile_conversation_counters")
SEQUENCE_DRIFT = _drift("sequence_drift", "sampled conversations with a sequence-number anomaly",
                        "reconcile_sequence_numbers")
INVALID_INDEX = _drift("invalid_index", "INVALID indexes on the application's tables", "rebuild_invalid_indexes")

ALERTS: dict[str, Alert] = {
    a.name: a
    for a in (QUERY_LATENCY, POOL_UTILIZATION, CACHE_HIT_RATE, PARTITION_COUNT, COUNTER_DRIFT, SEQUENCE_DRIFT,
              INVALID_INDEX)
}
