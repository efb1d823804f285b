"""Checks between the sequence_number steps (plan 1.1): they block the next step on failure."""

from collections.abc import Iterator

import dagster as dg
import psycopg
from pydantic import Field

from dbopt.postgres import phase1
from pipelines import check_scope
from pipelines.metadata import table_of
from pipelines.postgres_checks import backfill_scope, triggers_enabled
from pipelines.postgres_results import no_rows_check
from pipelines.resources import PostgresResource

# Every sequence_number backfill slices the conversation id: its checks' unit is a conversation.
BACKFILLS = (
    phase1.SEQUENCE_INIT_COUNTERS.name, phase1.SEQUENCE_NUMBERING.name,
    phase1.SEQUENCE_SWEEP_COUNTERS.name, phase1.SEQUENCE_SWEEP_MESSAGES.name,
)


class SequenceSampleConfig(dg.Config):
    sample_conversations: int = Field(
        default=1000,
        description="Conversations outside the key ranges this run wrote whose every message is checked, drawn at "
        "random (run tag dbopt/checks=full: all of them).",
    )


@dg.asset_check(
    asset="sequence_number_trigger",
    blocking=True,
    description="The trigger set_message_sequence exists and is enabled, so no new message goes unnumbered; "
    "so do those that renumber a moved message and reset the counters on TRUNCATE.",
)
def set_message_sequence_enabled(postgres: PostgresResource) -> dg.AssetCheckResult:
    return triggers_enabled(
        postgres,
        ("set_message_sequence", "set_message_sequence_on_move", "release_message_sequence_on_move",
         "reset_message_sequence_on_truncate"),
    )


# The two suites on the messages of sequence_number_backfill: one step, one scope. They read the
# same conversations (the ranges the run wrote and one random sample of the rest), so the sample
# is drawn once and both suites run on it; each is still its own check with its own result.
SUITES = {
    "sequence_numbers_complete_and_unique": dict(
        description=(
            "In-database suite (Great Expectations 1.x with the tag dbopt/checks=full, the same queries directly "
            "otherwise): no message without a sequence number, no number used twice in a conversation, no "
            "conversation counter below its highest number (or still NULL)." + check_scope.DESCRIPTION
        ),
        files={
            "messages without a sequence number": "sequence_number/missing.sql",
            "numbers used twice in a conversation": "sequence_number/duplicates.sql",
            "counters below their highest number": "sequence_number/counter_behind.sql",
        },
        severity=dg.AssetCheckSeverity.ERROR,
        next_step=(
            "Do not continue to the constraints. NULL numbers: rerun the job (the backfill and its sweep resume). "
            "Duplicates or a counter behind its messages: the application inserted messages with its own "
            "sequence_number, or ran REPEATABLE READ transactions across the trigger's creation; roll back with "
            "rollback_phase1_postgres and run the rollout again."
        ),
    ),
    "sequence_numbers_contiguous": dict(
        description=(
            "Warning only: numbers run 1..N per conversation and follow (created_at, id) order. Gaps come from "
            "hard-deleted messages; inversions from messages inserted with an old created_at."
            + check_scope.DESCRIPTION
        ),
        files={
            "conversations with gaps": "sequence_number/gaps.sql",
            "numbers out of (created_at, id) order": "sequence_number/out_of_order.sql",
        },
        severity=dg.AssetCheckSeverity.WARN,
        next_step=(
            "Nothing blocks: gaps and inversions do not break uniqueness. Look at the sample: gaps in "
            "conversations without hard deletes, or a counter ahead of its messages, would point to a bug."
        ),
    ),
}


def _sequence_suites(asset: str) -> dg.AssetChecksDefinition:
    """Both suites of `asset` (sequence_number_backfill or its `_by_range` copy) as one step."""

    @dg.multi_asset_check(
        name=f"{asset}_suites",
        specs=[
            dg.AssetCheckSpec(name, asset=asset, blocking=True, description=suite["description"])
            for name, suite in SUITES.items()
        ],
        can_subset=True,
    )
    def suites(
        context: dg.AssetCheckExecutionContext, postgres: PostgresResource, config: SequenceSampleConfig
    ) -> Iterator[dg.AssetCheckResult]:
        scope = backfill_scope(
            context, postgres, table="conversations", backfills=BACKFILLS, sample=config.sample_conversations,
            unit="conversations",
        )
        for key in sorted(context.selected_asset_check_keys, key=lambda k: list(SUITES).index(k.name)):
            suite = {k: v for k, v in SUITES[key.name].items() if k != "description"}
            result = no_rows_check(postgres, table="messages", scope=scope, **suite)
            yield result._replace(asset_key=key.asset_key, check_name=key.name)

    return suites


sequence_number_suites = [_sequence_suites(a) for a in ("sequence_number_backfill", "sequence_number_backfill_by_range")]


@dg.asset_check(
    asset="sequence_number_constraints",
    blocking=True,
    description="messages.sequence_number and conversations.last_sequence_number are NOT NULL, and "
    "(conversation_id, sequence_number) is a valid unique constraint.",
)
def sequence_number_constraints_enforced(postgres: PostgresResource) -> dg.AssetCheckResult:
    with postgres.connector().connection() as conn:
        rows = _constraint_state(conn)
    ok = all(r["in_place"] for r in rows)
    metadata = {"constraints": table_of(rows)}
    if not ok:
        metadata["next_step"] = dg.MetadataValue.text("Rerun the job; the constraint steps are idempotent.")
    return dg.AssetCheckResult(passed=ok, metadata=metadata)


def _constraint_state(conn: psycopg.Connection) -> list[dict]:
    not_null = dict(
        conn.execute(
            "SELECT attrelid::regclass::text || '.' || attname, attnotnull FROM pg_attribute "
            "WHERE (attrelid, attname) IN ((to_regclass('messages'), 'sequence_number'), "
            "(to_regclass('conversations'), 'last_sequence_number'))"
        ).fetchall()
    )
    unique = conn.execute(
        "SELECT co.convalidated AND i.indisvalid FROM pg_constraint co JOIN pg_index i ON i.indexrelid = co.conindid "
        "WHERE co.conname = 'messages_conversation_sequence_key' AND co.conrelid = to_regclass('messages')"
    ).fetchone()
    return [
        {"constraint": "messages.sequence_number NOT NULL", "in_place": bool(not_null.get("messages.sequence_number"))},
        {
            "constraint": "conversations.last_sequence_number NOT NULL",
            "in_place": bool(not_null.get("conversations.last_sequence_number")),
        },
        {"constraint": "UNIQUE (conversation_id, sequence_number)", "in_place": bool(unique and unique[0])},
    ]
