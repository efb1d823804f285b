"""Issue 15: the plan of phase1_clickhouse before it changes anything, and its receipt after."""

from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import ledger, rollout_plan
from pipelines.clickhouse_steps import OWNERS, POOL, connect, sql_references, step_ledger
from pipelines.failures import operator_errors
from pipelines.findings_metadata import detail_table
from pipelines.metadata import preflight_group
from pipelines.resources import ClickHouseResource

SQL = tuple(f"{rollout_plan.DIR}/{name}" for name in (
    "010_create_scratch.sql", "015_month_rows.sql", "020_copy_sample.sql", "040_drop_scratch.sql",
    "050_recent_rows.sql")) + ("clickhouse/phase1/cdc_partitioning/030_copy_month.sql",)
RECEIPT_SQL = (f"{rollout_plan.DIR}/060_ledger_run.sql",)
PLAN_KEY = "clickhouse_plan"
RECEIPT_STEP = "clickhouse.plan_receipt"


class ClickHousePlanConfig(dg.Config):
    sample_rows: int = Field(default=rollout_plan.SAMPLE_ROWS, description=(
        "About this many rows of each CDC table copied (one whole month, never more than twice this, with the "
        "repartition's own statement, into a scratch database dropped after) to time this server."))


@dg.asset(
    **preflight_group("clickhouse"),
    pool=POOL,
    deps=["clickhouse_preflight"],
    metadata=sql_references(*SQL),
    description=(
        "The plan of phase1_clickhouse on this database: per step what it changes, the rows it copies or reads, its "
        "predicted duration as a range and the disk it keeps. Calibrated here: one month of each CDC table is copied "
        "with the repartition's own statement into a scratch database (dbopt_plan_scratch_*, dropped right after), timed. Writes nothing to the "
        "application's database. Its receipt (predicted against actual) is on clickhouse_receipt. Rollback: none "
        "needed."
    ),
)
@operator_errors
def clickhouse_plan(context: dg.AssetExecutionContext, config: ClickHousePlanConfig,
                    clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """An operator sees how long each step will take here before it starts."""
    ch, _ = connect(clickhouse)
    plan = rollout_plan.compute(ch, sample_rows=config.sample_rows)
    for line in rollout_plan.format_plan(plan):
        context.log.info(line)
    return dg.MaterializeResult(metadata={
        "steps": detail_table([s.row() for s in plan.steps]),
        "predicted_s": dg.MetadataValue.float(round(plan.seconds, 1)),
        "predicted_range_s": dg.MetadataValue.text(f"{plan.low_s:,.1f}-{plan.high_s:,.1f}"),
        "disk_bytes": dg.MetadataValue.int(plan.disk_bytes),
        "calibration": detail_table([
            {"table": t, "sample rows": plan.calibration.sample_rows[t],
             "copy rows/s": round(plan.calibration.copy_rows_per_s[t])}
            for t in plan.calibration.sample_rows]),
        "copy_rows_per_s": dg.MetadataValue.float(round(plan.calibration.rows_per_s, 1)),
        "plan_json": dg.MetadataValue.json(
            {"steps": [{k: v for k, v in s.__dict__.items()} for s in plan.steps]}),
    })


@dg.asset(
    group_name="phase1_clickhouse",
    kinds={"clickhouse"},
    owners=OWNERS,
    tags={"phase": "1", "system": "clickhouse"},
    pool=POOL,
    deps=["post_metrics_1h", "user_author_90d", "feed_candidates_followees", "feed_candidates_trending",
          "feed_candidates_affinity"],
    metadata=sql_references(*RECEIPT_SQL),
    description=(
        "The receipt of phase1_clickhouse, its last step: clickhouse_plan's prediction against what each step took in "
        "this run (from dbopt_ledger), per step and in total. Recorded in the ledger too, so `dbopt status` shows it. "
        "Changes nothing else. Rollback: none needed."
    ),
)
@operator_errors
def clickhouse_receipt(context: dg.AssetExecutionContext, clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """A plan is only worth trusting if it is checked against what happened."""
    ch, ddl = connect(clickhouse)
    event = context.instance.get_latest_materialization_event(dg.AssetKey(PLAN_KEY))
    meta = event.asset_materialization.metadata if event and event.asset_materialization else {}
    predicted = meta["plan_json"].value["steps"] if "plan_json" in meta else []
    actual = rollout_plan.actuals(ch, context.run.run_id)
    rows = rollout_plan.receipt(predicted, actual)
    for line in rollout_plan.format_receipt(rows):
        context.log.info(line)
    now = datetime.now(UTC)
    step_ledger(context, ch, ddl).record(RECEIPT_STEP, "succeeded", started_at=now, finished_at=now,
                                         detail={"run_id": context.run.run_id, "rows": rows})
    total = rows[-1] if rows else {}
    return dg.MaterializeResult(metadata={
        "receipt": detail_table(rows),
        "predicted_s": dg.MetadataValue.float(float(total.get("predicted_s") or 0.0)),
        "actual_s": dg.MetadataValue.float(float(total.get("actual_s") or 0.0)),
        "plan_run": dg.MetadataValue.text(event.run_id if event else "no plan in this instance"),
        "steps_in_ledger": dg.MetadataValue.int(len([s for s in actual if s in ledger.PHASE1_STEPS])),
    })
