"""Phase 2.1, "Optimize Message History Query", measured on the live database."""

import dagster as dg
from pydantic import Field

from dbopt.workload.history import MessageHistoryProbe
from dbopt.workload.registry import CRITERIA_MS
from pipelines.failures import operator_errors
from pipelines.resources import PostgresResource, RedisResource
from pipelines.workload_steps import WorkloadConfig, benchmark_step, common


class MessageHistoryConfig(WorkloadConfig):
    pages_per_conversation: int = Field(default=5, description="First pages of each sampled conversation.")
    p95_target_ms: float = Field(default=CRITERIA_MS["message_history"],
                                 description="Success criterion of Phase 2: message history p95 below this (ms).")


@dg.asset(
    **common("phase2_queries", "2", {"postgres"}),
    description=(
        "Message history, 100 messages a page (plan 2.1): the 3-query history (the page, then its reactions, then "
        "its attachments) against 2.1's single JSON-aggregating query by OFFSET (Phase 2), after a keyset cursor "
        "(Phase 3) and behind the cache (Phase 4, TTL 30 s), on random conversations; the comparison checks every "
        "page gives the same messages, reactions and attachments. Reads only: nothing to roll back (a code change "
        "is rolled back by deploying the previous version)."
    ),
)
@operator_errors
def message_history_benchmark(context: dg.AssetExecutionContext, config: MessageHistoryConfig,
                              postgres: PostgresResource, redis: RedisResource) -> dg.MaterializeResult:
    probe = MessageHistoryProbe(pages_per_conversation=config.pages_per_conversation)
    return benchmark_step(context, probe, config.settings(postgres), thresholds={"p95_ms": config.p95_target_ms},
                          postgres=postgres, redis=redis)
