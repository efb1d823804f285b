"""rollback_phase1_postgres: return PostgreSQL to the baseline schema, keeping every row."""

import dagster as dg

from dbopt.errors import DboptError
from dbopt.postgres.rollback import rollback_phase1
from pipelines.confirmation import CONFIRMATION, RollbackConfig, confirmed
from pipelines.failures import operator_errors
from pipelines.postgres_steps import runner, steps_metadata
from pipelines.resources import PostgresResource


@dg.op(
    pool="postgres_ddl",
    description=(
        "Drops what Phase 1.1 added (indexes concurrently first, then the counters' triggers, then each column "
        "together with the trigger that fills it, then functions) under lock_timeout with retries, so that the "
        "application can write after every step, then compares the catalog with the fingerprint taken before the rollout. "
        "Works from any point of a half-finished rollout; running it twice is harmless. Rows are never touched: "
        "dropping a column is a catalog change. Requires confirm = \"rollback\"; otherwise a dry run."
    ),
)
@operator_errors
def rollback_postgres_schema(
    context: dg.OpExecutionContext, config: RollbackConfig, postgres: PostgresResource
) -> dg.Output[None]:
    dry_run = not confirmed(config, "PostgreSQL")
    report = rollback_phase1(runner(context, postgres), dry_run=dry_run)
    listing = "\n".join(f"- {d}" for d in report.would_remove + [f"function {f}" for f in report.dbopt_functions])
    metadata: dict[str, dg.MetadataValue] = {
        "dry_run": dg.MetadataValue.bool(dry_run),
        "changes_from_baseline_before": dg.MetadataValue.md(listing or "none: the schema is the baseline"),
    }
    if dry_run:
        context.log.info(
            f"Dry run: rollback would remove {len(report.would_remove) + len(report.dbopt_functions)} object(s); "
            f'set confirm to "{CONFIRMATION}" to roll back.\n{listing}'
        )
        return dg.Output(None, metadata=metadata)
    metadata.update(steps_metadata(report.steps))
    metadata["matches_baseline"] = dg.MetadataValue.bool(report.matches_baseline)
    if not report.baseline_recorded:
        raise DboptError(
            "Rollback ran, but no pre-rollout fingerprint was recorded (postgres_baseline never ran here), so the "
            "schema cannot be compared with the baseline; inspect it by hand."
        )
    if not report.matches_baseline:
        left = report.remaining_differences + [f"function {f}" for f in report.dbopt_functions]
        raise DboptError(
            f"Rollback finished but the schema still differs from the baseline ({'; '.join(left[:5])}); these "
            f"objects were not created by dbopt's rollout or could not be dropped, so remove them by hand."
        )
    context.log.info("Rollback complete: the schema matches the fingerprint taken before the rollout.")
    return dg.Output(None, metadata=metadata)


@dg.job(
    executor_def=dg.in_process_executor,
    tags={"dbopt/phase": "1", "dbopt/system": "postgres", "dbopt/rollback": "true"},
    description=(
        "Returns PostgreSQL to the baseline schema of the contract, keeping every row, online and idempotent. "
        'Dry run by default: set confirm to "rollback" in the op config to roll back.'
    ),
)
def rollback_phase1_postgres() -> None:
    rollback_postgres_schema()
