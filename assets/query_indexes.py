"""Phase 1.1, "Creates composite indexes for common query patterns"."""

import dagster as dg

from dbopt.postgres.phase1 import QUERY_INDEXES
from pipelines.failures import operator_errors
from pipelines.postgres_steps import PHASE1, runner, sql_references, steps_metadata
from pipelines.resources import PostgresResource


@dg.asset(
    **PHASE1,
    deps=["postgres_baseline"],
    pool="postgres_ddl",
    metadata=sql_references(*QUERY_INDEXES),
    description=(
        "Composite indexes for the plan's queries: messages (conversation_id, created_at, id) for history, cursor "
        "pagination and the last message; posts (user_id, created_at DESC, id DESC) WHERE soft_delete IS NULL for "
        "cursor pagination of posts; message_attachments (message_id) for the history query. Built with CREATE "
        "INDEX CONCURRENTLY: writers are never blocked; an INVALID index from a failed build is rebuilt. "
        "Rollback: DROP INDEX CONCURRENTLY (rollback_phase1_postgres)."
    ),
)
@operator_errors
def query_indexes(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """The backfills walk these indexes, so they come first."""
    results = runner(context, postgres).apply(QUERY_INDEXES)
    return dg.MaterializeResult(metadata=steps_metadata(results))
