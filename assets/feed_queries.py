"""Phase 2.2, "Optimize Feed Candidate Queries" (and 1.2's feed tables), measured on ClickHouse."""

import dagster as dg
from pydantic import Field

from dbopt.workload.feed import FeedProbe
from dbopt.workload.registry import CRITERIA_MS
from pipelines.clickhouse_steps import POOL
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource, RedisResource
from pipelines.workload_steps import WorkloadConfig, benchmark_step, common


class FeedConfig(WorkloadConfig):
    sample_size: int = Field(default=10, description="Users sampled (followers, the same ones on the same data).")
    slow_requests: int = Field(default=5, description="Timed requests of the CDC pattern (hundreds of ms each).")
    equivalence_users: int = Field(default=3, description="Users whose candidates are compared (three CDC "
                                                          "computations each).")
    p95_target_ms: float = Field(default=CRITERIA_MS["feed_generation"],
                                 description="Success criterion of Phase 2: feed generation p95 below this (ms).")


@dg.asset(
    **common("phase2_queries", "2", {"clickhouse"}),
    pool=POOL,
    description=(
        "Feed generation: three candidate queries computed from the CDC tables at request time (before 1.2), three "
        "queries on the candidate tables (1.2), the plan's single UNION ALL (2.2) and 2.2 behind the cache (TTL 1 "
        "min), for the same users; the comparison computes the candidates from the CDC tables for the tables' as_of "
        "and checks they are the ones 2.2 returns. Reads only (the CDC pattern reads whole windows of the CDC "
        "tables); on chDB requests run one at a time. Nothing to roll back."
    ),
)
@operator_errors
def feed_generation_benchmark(context: dg.AssetExecutionContext, config: FeedConfig, clickhouse: ClickHouseResource,
                              redis: RedisResource) -> dg.MaterializeResult:
    probe = FeedProbe(equivalence_users=config.equivalence_users)
    settings = config.settings(slow_requests=config.slow_requests)
    return benchmark_step(context, probe, settings, thresholds={"p95_ms": config.p95_target_ms},
                          clickhouse=clickhouse, redis=redis)
