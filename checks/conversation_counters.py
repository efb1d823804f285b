"""Checks between the conversation counter steps (plan 1.1)."""

import dagster as dg
from pydantic import Field

from dbopt.postgres import phase1
from pipelines import check_scope
from pipelines.postgres_checks import backfill_check, backfill_scope, triggers_enabled
from pipelines.postgres_results import no_rows_check
from pipelines.resources import PostgresResource


class SampleConfig(dg.Config):
    sample: int = Field(
        default=5000,
        description="Conversations outside the id ranges this run wrote that are recounted, drawn at random (run tag "
        "dbopt/checks=full: all of them).",
    )


@dg.asset_check(
    asset="conversation_counters_triggers",
    blocking=True,
    description="The triggers update_member_count_on_add, update_member_count_on_remove and "
    "update_last_message_on_insert exist and are enabled, and those that follow moves and TRUNCATE.",
)
def counter_triggers_enabled(postgres: PostgresResource) -> dg.AssetCheckResult:
    return triggers_enabled(
        postgres,
        (
            "update_member_count_on_add", "update_member_count_on_remove", "update_last_message_on_insert",
            "update_last_message_on_move", "reset_last_message_on_truncate", "update_member_count_on_move",
            "reset_member_count_on_truncate",
        ),
    )


@backfill_check(
    "conversation_counters_backfill",
    blocking=True,
    description=(
        "In-database suite (Great Expectations 1.x with the tag dbopt/checks=full, the same queries directly otherwise): member_count and last_message_id/at equal a recount, read in one "
        "snapshot (exact while writers are busy)." + check_scope.DESCRIPTION
    ),
)
def conversation_counters_match_recount(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource, config: SampleConfig
) -> dg.AssetCheckResult:
    return no_rows_check(
        postgres,
        table="conversations",
        scope=backfill_scope(
            context, postgres, table="conversations", backfills=(phase1.COUNTERS_BACKFILL.name,),
            sample=config.sample, unit="conversations",
        ),
        files={"conversations whose counters differ from a recount": "conversation_counters/mismatch.sql"},
        next_step=(
            "Rerun conversation_counters_backfill (it recounts under row locks and repairs drift). If mismatches "
            "come back, something writes member_count or last_message_* besides the triggers."
        ),
    )
