"""Checks on the composite indexes (plan 1.1)."""

import dagster as dg

from pipelines.postgres_checks import no_invalid_indexes
from pipelines.resources import PostgresResource


@dg.asset_check(
    asset="query_indexes",
    blocking=True,
    description="No INVALID index (left by a failed concurrent build) on the application's tables.",
)
def query_indexes_valid(postgres: PostgresResource) -> dg.AssetCheckResult:
    return no_invalid_indexes(postgres)
