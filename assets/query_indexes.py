"""Phase 1.1, "Creates composite indexes for common query patterns"."""

import dagster as dg

from dbopt.postgres.phase1 import QUERY_INDEXES
from pipelines.postgres_steps import schema_step
from pipelines.resources import PostgresResource


@schema_step(
    QUERY_INDEXES,
    deps=["postgres_baseline"],
    description=(
        "Composite indexes for the plan's queries: messages (conversation_id, created_at, id) for history, cursor "
        "pagination and the last message; posts (user_id, created_at DESC, id DESC) WHERE soft_delete IS NULL for "
        "cursor pagination of posts; message_attachments (message_id) for the history query. Built with CREATE "
        "INDEX CONCURRENTLY: writers are never blocked; an INVALID index from a failed build is rebuilt. "
        "Rollback: DROP INDEX CONCURRENTLY (rollback_phase1_postgres)."
    ),
)
def query_indexes(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """The backfills walk these indexes, so they come first."""
