"""Phase 1.1 done: the contract's "PostgreSQL after Phase 1", verified as a whole."""

import dagster as dg

from dbopt.postgres import fingerprint
from pipelines.failures import operator_errors
from pipelines.postgres_steps import PHASE1
from pipelines.resources import PostgresResource


@dg.asset(
    **PHASE1,
    deps=["sequence_number_constraints", "conversation_counters_backfill", "content_tsv_index"],
    description=(
        "The end of Phase 1.1 on PostgreSQL: records the schema as the rollout left it. Its checks verify the "
        "contract: the plan's own 1.3, 2.1, 3.1 and 3.2 queries run unchanged and read through indexes, every "
        "trigger is enabled, no index is INVALID. Changes nothing. Rollback: rollback_phase1_postgres."
    ),
)
@operator_errors
def phase1_postgres_contract(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """A single place in the graph that says "Phase 1.1 holds"."""
    with postgres.connector().connection() as conn:
        now = fingerprint.catalog(conn)
        base = fingerprint.recorded(conn)
    changes = fingerprint.differences(base[1], now) if base else []
    return dg.MaterializeResult(
        metadata={
            "schema_fingerprint": dg.MetadataValue.text(fingerprint.digest(now)),
            "changes_from_baseline": dg.MetadataValue.md("\n".join(f"- {c}" for c in changes) or "none"),
        }
    )
