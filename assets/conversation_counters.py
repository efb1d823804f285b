"""Phase 1.1, "Denormalizes conversations table (eliminates subqueries)"."""

import dagster as dg

from dbopt.postgres import phase1
from pipelines.postgres_steps import (
    PHASE1,
    BackfillConfig,
    backfill_assets,
    backfill_result,
    schema_step,
    sql_references,
)
from pipelines.resources import PostgresResource


@schema_step(
    phase1.COUNTER_TRIGGERS,
    deps=["query_indexes"],
    description=(
        "Adds conversations.member_count (int, default 0), last_message_id and last_message_at, and the triggers "
        "update_member_count_on_add, update_member_count_on_remove and update_last_message_on_insert that keep "
        "them. Catalog changes only; each DDL waits at most lock_timeout per attempt. "
        "Rollback: drop the triggers, functions and columns."
    ),
)
def conversation_counters_triggers(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """The triggers exist before the backfill counts, so no change falls between the two."""


def _conversation_counters_backfill(
    context: dg.AssetExecutionContext, postgres: PostgresResource, config: BackfillConfig
) -> dg.MaterializeResult:
    """After this, conversation fetch reads one row instead of two subqueries."""
    return backfill_result(context, postgres, config, phase1.COUNTERS_BACKFILL)


conversation_counters_backfill, conversation_counters_backfill_by_range = backfill_assets(
    "conversation_counters_backfill",
    _conversation_counters_backfill,
    common=PHASE1,
    needs=phase1.COUNTER_TRIGGERS,
    deps=["conversation_counters_triggers"],
    metadata=sql_references(phase1.COUNTERS_BACKFILL),
    description=(
        "Backfill of the conversation counters, batched by conversation id: lock the batch's conversation rows "
        "(FOR NO KEY UPDATE), then count members and find the last message in a new statement, so a concurrent "
        "increment can neither be lost nor counted twice. Holds each batch's row locks ~100 ms. Recomputes, so it "
        "also repairs drift. Rollback: the columns are dropped with the triggers."
    ),
)
