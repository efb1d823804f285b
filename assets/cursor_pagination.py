"""Phase 3, "Cursor Pagination" (3.1 posts, 3.2 messages, 3.3 cursors), measured."""

import dagster as dg
from pydantic import Field

from dbopt.workload.pagination import TARGET_PAGE, PaginationProbe
from dbopt.workload.registry import CRITERIA_MS
from pipelines.failures import operator_errors
from pipelines.resources import PostgresResource, RedisResource
from pipelines.workload_steps import WorkloadConfig, benchmark_step, common


class PaginationConfig(WorkloadConfig):
    equivalence_pages: int = Field(default=TARGET_PAGE + 5,
                                   description="Pages walked with cursors and compared with OFFSET pages, per list.")
    p95_target_ms: float = Field(default=CRITERIA_MS["deep_pagination"],
                                 description="Success criterion of Phase 3: deep pagination p95 below this at any "
                                             "page (ms).")


@dg.asset(
    **common("phase3_pagination", "3", {"postgres"}),
    description=(
        "Deep pagination: LIMIT/OFFSET pages against keyset cursors (plan 3.1 for a user's posts, 3.2 for a "
        "conversation's messages) with our cursor codec (microsecond timestamp and id, signed, so it round-trips "
        "and a tampered cursor is refused), at page 100 and at the last page of the largest conversation, and at "
        "page 100 of the busiest author; the comparison walks each list page by page with cursors and checks every "
        "page equals the OFFSET page of the same number, with no row on two pages. Reads only: nothing to roll back."
    ),
)
@operator_errors
def deep_pagination_benchmark(context: dg.AssetExecutionContext, config: PaginationConfig,
                              postgres: PostgresResource, redis: RedisResource) -> dg.MaterializeResult:
    probe = PaginationProbe(equivalence_pages=config.equivalence_pages)
    return benchmark_step(context, probe, config.settings(postgres), thresholds={"p95_ms": config.p95_target_ms},
                          postgres=postgres, redis=redis)
