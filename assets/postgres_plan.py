"""Issue 15: the plan of phase1_postgres before it changes anything; its receipt is on
phase1_postgres_contract, the rollout's last asset (dbopt/postgres/rollout_plan.py)."""

import time

import dagster as dg
from pydantic import Field

from dbopt.postgres import rollout_plan
from pipelines import check_scope
from pipelines.failures import operator_errors
from pipelines.findings_metadata import detail_table
from pipelines.metadata import preflight_group, sql_references
from pipelines.resources import PostgresResource

SQL = tuple(f"{rollout_plan.DIR}/{name}" for name in (
    "010_scratch.sql", "020_sample.sql", "030_figures.sql", "040_counts.sql", "050_index_size.sql"))
PLAN_KEY = "postgres_plan"
_DEFAULT = rollout_plan.PlanSettings()


class PostgresPlanConfig(dg.Config):
    sample_rows: int = Field(default=_DEFAULT.sample_rows, description=(
        "Messages (1,000 to 2,000,000) copied, with their conversations in proportion, into the plan's sample, on "
        "which every step still to do is replayed and timed in one transaction that is rolled back."))
    statement_timeout_s: float = Field(default=_DEFAULT.statement_timeout_s, description=(
        "Longest any statement of the sample may run (1 to 3600 s)."))
    target_batch_ms: int = Field(default=_DEFAULT.target_batch_ms, description=(
        "The backfills' target_batch_ms of the run being planned (1 to 10000), as in their BackfillConfig."))


def plan_settings(config: PostgresPlanConfig, postgres: PostgresResource) -> rollout_plan.PlanSettings:
    return rollout_plan.PlanSettings(
        sample_rows=config.sample_rows, statement_timeout_s=config.statement_timeout_s,
        lock_timeout_ms=postgres.lock_timeout_ms, target_batch_ms=config.target_batch_ms,
        ddl_attempts=postgres.ddl_attempts)


def plan_metadata(plan: rollout_plan.Plan) -> dict[str, dg.MetadataValue]:
    cal = plan.calibration
    return {
        "steps": detail_table([s.row() for s in plan.steps]),
        "predicted_s": dg.MetadataValue.float(round(plan.seconds, 1)),
        "predicted_range_s": dg.MetadataValue.text(f"{plan.low_s:,.1f}-{plan.high_s:,.1f}"),
        "steps_to_do": dg.MetadataValue.int(sum(s.todo for s in plan.steps)),
        "disk_bytes": dg.MetadataValue.int(plan.disk_bytes),
        "wal_bytes": dg.MetadataValue.int(plan.wal_bytes),
        "new_indexes": detail_table([
            {"step": s.step, "rows": s.rows, "predicted size": rollout_plan.human_bytes(s.index_bytes),
             "bytes": s.index_bytes} for s in plan.steps if s.kind == "index" and s.todo]),
        "calibration": detail_table([
            {"table": t, "sample rows": n, "rows here": cal.table_rows.get(t, 0)} for t, n in cal.sample_rows.items()]),
        "calibration_s": dg.MetadataValue.float(round(cal.seconds, 1)),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in plan.notes) or "none"),
        "plan_json": dg.MetadataValue.json({"steps": [
            {k: v for k, v in s.__dict__.items()} for s in plan.steps]}),
    }


@dg.asset(
    **preflight_group("postgres"),
    deps=["postgres_preflight"],
    metadata=sql_references(*SQL),
    description=(
        "The plan of phase1_postgres on this database: per step what it changes, the lock it takes (mode, table, "
        "whether writers wait and at most how long), the rows it touches, its predicted duration as a range and the "
        "disk and WAL it needs, each new index's size. Calibrated here: every step still to do is replayed with its "
        "own SQL on a sample copied into a scratch schema, timed and scaled, in one transaction that is rolled back "
        "(reads of the application's tables only; nothing is committed). Steps the ledger records as applied say "
        "'nothing to do'. Its receipt (predicted against actual) is on phase1_postgres_contract. Rollback: none needed."
    ),
)
@operator_errors
def postgres_plan(context: dg.AssetExecutionContext, config: PostgresPlanConfig,
                  postgres: PostgresResource) -> dg.MaterializeResult:
    """An operator sees what each step will lock and how long it will take here before it starts."""
    # The run's settings first, in the rollout's own words: the plan samples with some of them.
    run_config = context.run.run_config or {}
    postgres.check_settings({op: dict((entry or {}).get("config") or {})
                             for op, entry in (run_config.get("ops") or {}).items()})
    settings = plan_settings(config, postgres)
    settings.check()
    full_checks = check_scope.mode_of(context.run.tags) == check_scope.FULL
    plan = rollout_plan.compute(postgres.connector(), ts_literal=postgres.ts_config_literal(), settings=settings,
                                full_checks=full_checks)
    # One log entry for the whole plan: each entry is a write to the run's event log.
    context.log.info("\n".join(rollout_plan.format_plan(plan)))
    return dg.MaterializeResult(metadata=plan_metadata(plan))


def receipt_metadata(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dict[str, dg.MetadataValue]:
    """The receipt of this run (called by phase1_postgres_contract, the rollout's last asset)."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey(PLAN_KEY))
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    if "plan_json" not in meta:
        return {"receipt": dg.MetadataValue.text("no postgres_plan in this instance: nothing to compare")}
    predicted = meta["plan_json"].value["steps"]
    with postgres.connector().connection() as conn:
        actual = rollout_plan.actuals(conn, context.run.run_id)
    # Checks and orchestration: the run's time since its first change, less the steps' own.
    first = [s.start_time for s in context.instance.get_run_step_stats(context.run.run_id)
             if s.step_key == "postgres_baseline" and s.start_time]
    if first:
        actual[rollout_plan.ORCHESTRATION] = max(0.0, time.time() - first[0] - sum(actual.values()))
    rows = rollout_plan.receipt(predicted, actual)
    with postgres.connector().connection() as conn:
        rollout_plan.record_receipt(conn, context.run.run_id, rows)
    context.log.info("\n".join(rollout_plan.format_receipt(rows)))
    total = rows[-1]
    return {
        "receipt": detail_table(rows),
        "predicted_s": dg.MetadataValue.float(float(total["predicted_s"] or 0.0)),
        "actual_s": dg.MetadataValue.float(float(total["actual_s"] or 0.0)),
        "plan_run": dg.MetadataValue.text(event.run_id if event else "-"),
    }
