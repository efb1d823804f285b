"""Phase 1.1, before any change: is this the contract's baseline, and what did it look like?"""

import dagster as dg

from dbopt.postgres import baseline, fingerprint, ledger
from pipelines.failures import operator_errors
from pipelines.postgres_steps import PHASE1, begin
from pipelines.resources import PostgresResource


@dg.asset(
    **PHASE1,
    # The preflight's checks are blocking: a no-go stops the run here, before any change;
    # the plan (read-only, rolled back) runs before the first change too.
    deps=["postgres_preflight", "postgres_plan"],
    pool="postgres_ddl",
    description=(
        "Preflight of Phase 1.1: checks that DATABASE_URL holds the baseline tables of the contract, creates "
        "dbopt's own schema (migration ledger, backfill checkpoints) and records a fingerprint of the baseline "
        "catalog, which rollback_phase1_postgres compares against. Changes nothing in the application's schema; "
        "takes no lock on its tables. Rollback: nothing to undo."
    ),
)
@operator_errors
def postgres_baseline(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """The rollout refuses to start on a database that is not the baseline."""
    begin(context, postgres)  # settings, server version, rollout lock: before anything is created
    connector = postgres.connector()
    with connector.connection() as conn:
        state = baseline.require(conn, connector.url)
        ledger.ensure(conn)
        fp, new = fingerprint.record_baseline(conn)
        version = conn.execute("SHOW server_version").fetchone()[0]
    context.log.info(
        f"baseline tables present on PostgreSQL {version}; fingerprint {fp} "
        + ("recorded now" if new else "recorded before the rollout began")
    )
    return dg.MaterializeResult(
        metadata={
            "database": dg.MetadataValue.text(postgres.safe_url()),
            "server_version": dg.MetadataValue.text(version),
            "baseline_fingerprint": dg.MetadataValue.text(fp),
            "estimated_rows": dg.MetadataValue.json(state.estimated_rows),
        }
    )
