"""Phase 1.1 done: the contract's "PostgreSQL after Phase 1", verified as a whole."""

import dagster as dg

from assets.postgres_plan import receipt_metadata
from dbopt.postgres import fingerprint, phase1
from pipelines.failures import operator_errors
from pipelines.postgres_steps import PHASE1, measured, runner, sql_references
from pipelines.resources import PostgresResource


@dg.asset(
    **PHASE1,
    deps=["sequence_number_constraints", "conversation_counters_backfill", "content_tsv_index"],
    metadata=sql_references(phase1.ANALYZE_CHANGED, phase1.BLOATED_INDEXES),
    description=(
        "The end of Phase 1.1 on PostgreSQL: VACUUM (ANALYZE) of the tables the rollout changed, on a run after a change (online, not FULL: "
        "it blocks neither reads nor writes), so that the space of the backfills' dead versions is reusable and the "
        "planner has statistics for the new columns; then REINDEX INDEX CONCURRENTLY of the indexes the rewrite left "
        ">20% bigger than a compact build; reports sizes, dead tuples and WAL before and after; then records the schema as the "
        "rollout left it. Its checks verify the contract: the plan's own 1.3, 2.1, 3.1 and 3.2 queries run "
        "unchanged and read through indexes, every trigger is enabled, no index is INVALID. Changes no schema. "
        "Shows postgres_plan's receipt: its prediction against what each step took in this run, per step and in "
        "total (also recorded in dbopt's ledger for `dbopt status`). Rollback: rollback_phase1_postgres."
    ),
)
@operator_errors
@measured
def phase1_postgres_contract(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """A single place in the graph that says "Phase 1.1 holds", with statistics its checks' plans can trust."""
    mig = runner(context, postgres)
    analyzed = mig.apply([phase1.ANALYZE_CHANGED])
    reindexed = mig.reindex_bloated(phase1.BLOATED_INDEXES)
    with postgres.connector().connection() as conn:
        now = fingerprint.catalog(conn)
        base = fingerprint.recorded(conn)
    changes = fingerprint.differences(base[1], now) if base else []
    return dg.MaterializeResult(
        metadata={
            # Not "applied": ANALYZE runs on every run, and a second run must still show it applied no change.
            "analyze": dg.MetadataValue.md(
                "skipped: VACUUM (ANALYZE) already ran after the rollout's last change"
                if all(r.outcome == "skipped" for r in analyzed)
                else "VACUUM (ANALYZE) messages, conversations: " + "; ".join(r.detail for r in analyzed if r.detail)
            ),
            "reindexed": dg.MetadataValue.md("\n".join(f"- {r.detail}" for r in reindexed) or "none"),
            "schema_fingerprint": dg.MetadataValue.text(fingerprint.digest(now)),
            "changes_from_baseline": dg.MetadataValue.md("\n".join(f"- {c}" for c in changes) or "none"),
            **receipt_metadata(context, postgres),
        }
    )
