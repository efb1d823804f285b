"""Phase 1.1, "Adds `sequence_number` column to messages (eliminates COUNT query)".

Three steps with checks between them: the trigger numbers every new message from the
conversation's counter; the backfill numbers the messages that were already there,
1..N per conversation in (created_at, id) order; then NOT NULL and uniqueness.
"""

import dagster as dg

from dbopt.postgres import phase1
from pipelines.postgres_steps import (
    PHASE1,
    BackfillConfig,
    backfill_assets,
    backfill_metadata,
    run_backfill,
    runner,
    schema_step,
    sql_references,
    steps_metadata,
)
from pipelines.resources import PostgresResource


@schema_step(
    phase1.SEQUENCE_TRIGGER,
    # After content_tsv's trigger: every message the sequence trigger has not numbered is then
    # either numbered by the backfill, which sets its content_tsv in the same UPDATE, or was
    # inserted with content_tsv set. The content_tsv backfill finds nothing left.
    deps=["query_indexes", "content_tsv_trigger"],
    description=(
        "Adds messages.sequence_number and conversations.last_sequence_number (nullable: catalog changes only) and "
        "the trigger set_message_sequence, which numbers every new message from its conversation's counter under "
        "the conversation's row lock, so concurrent writers never share a number (the plan's COUNT(*) is racy). "
        "Locks: each ALTER/CREATE TRIGGER waits at most lock_timeout (500 ms) per attempt. "
        "Rollback: drop the trigger, functions and columns."
    ),
)
def sequence_number_trigger(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """From here on, no new message is left without a number."""


def _sequence_number_backfill(
    context: dg.AssetExecutionContext, postgres: PostgresResource, config: BackfillConfig
) -> dg.MaterializeResult:
    """Numbers the past so that the trigger's numbers follow it."""
    mig = runner(context, postgres)
    reports = [
        run_backfill(context, postgres, config, phase1.SEQUENCE_INIT_COUNTERS, mig),
        run_backfill(context, postgres, config, phase1.sequence_numbering(postgres.ts_config_literal()), mig),
    ]
    steps = mig.apply([phase1.SEQUENCE_COUNTER_DEFAULT])
    reports.append(run_backfill(context, postgres, config, phase1.SEQUENCE_SWEEP_COUNTERS, mig))
    reports.append(run_backfill(context, postgres, config, phase1.SEQUENCE_SWEEP_MESSAGES, mig))
    return dg.MaterializeResult(metadata={**backfill_metadata(*reports), **steps_metadata(steps)})


sequence_number_backfill, sequence_number_backfill_by_range = backfill_assets(
    "sequence_number_backfill",
    _sequence_number_backfill,
    common=PHASE1,
    # Pass 2 also sets content_tsv (one rewrite per message), so its column and trigger come first.
    needs=phase1.QUERY_INDEXES + phase1.SEQUENCE_TRIGGER + phase1.content_tsv_trigger("'simple'"),
    deps=["sequence_number_trigger", "content_tsv_trigger"],
    metadata=sql_references(
        phase1.SEQUENCE_INIT_COUNTERS, phase1.SEQUENCE_NUMBERING, phase1.SEQUENCE_COUNTER_DEFAULT,
        phase1.SEQUENCE_SWEEP_MESSAGES,
    ),
    description=(
        "Backfill of sequence numbers, batched and checkpointed: (1) each conversation's counter := its message "
        "count, locking the conversation rows first; (2) existing messages numbered 1..N per conversation in "
        "(created_at, id) order, walking (conversation_id, created_at, id) so a 200 000-message conversation "
        "spans many small transactions, and content_tsv set in the same UPDATE (each message is rewritten once; "
        "VACUUM of the table every 10% of its rows keeps the dead versions' space reusable); (3) new conversations default to 0; (4) sweeps for anything missed. "
        "Row locks only, batches of ~200 ms, paused while the database is unhealthy; a killed run resumes from "
        "its checkpoint. Rollback: the columns are dropped with the rest of the step."
    ),
)


@schema_step(
    phase1.SEQUENCE_CONSTRAINTS,
    deps=["sequence_number_backfill"],
    description=(
        "NOT NULL on messages.sequence_number and conversations.last_sequence_number without a long lock "
        "(CHECK ... NOT VALID, VALIDATE CONSTRAINT under SHARE UPDATE EXCLUSIVE, then SET NOT NULL, which skips "
        "the scan), and uniqueness per conversation (unique index built concurrently, then the constraint adopts "
        "it). Runs only after the checks on the backfill pass. Rollback: drop the constraint and index."
    ),
)
def sequence_number_constraints(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """The database itself now guarantees what the backfill established."""
