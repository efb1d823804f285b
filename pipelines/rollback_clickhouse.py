"""rollback_phase1_clickhouse: back to the baseline tables, keeping every event."""

import dagster as dg

from dbopt.clickhouse import ledger
from dbopt.clickhouse.rollback import plan_rollback, rollback_phase1
from pipelines.clickhouse_steps import POOL, connect, run_lock, step_ledger, table_of
from pipelines.confirmation import CONFIRMATION, RollbackConfig, confirmed
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource


@dg.op(
    pool=POOL,
    tags={"system": "clickhouse"},
    description=(
        "Drops the feed candidate tables (with staging tables and backups), the rollups and all their views, then "
        "restores every CDC table to the baseline layout from its backup plus every event written since the swap "
        "(copied back month by month, swapped with EXCHANGE TABLES, reconciled). Readers see one table or the other, "
        "never a partial one; no lock blocks writers. Idempotent: rerun after any failure. Requires confirm = "
        '"rollback"; otherwise a dry run.'
    ),
)
@operator_errors
def rollback_clickhouse(
    context: dg.OpExecutionContext, config: RollbackConfig, clickhouse: ClickHouseResource
) -> dg.Output[None]:
    """Undoes Phase 1.2 so the application reads the baseline tables again, without losing an event."""
    roll_back = confirmed(config, "ClickHouse")
    ch, ddl = connect(clickhouse)
    plan = plan_rollback(ch)
    listing = "\n".join(f"- {line}" for line in plan) or "nothing: ClickHouse is at the baseline"
    if not roll_back:
        context.log.info(f'Dry run: rollback would do {len(plan)} thing(s); set confirm to "{CONFIRMATION}" to roll back.\n{listing}')
        return dg.Output(None, metadata={"dry_run": dg.MetadataValue.bool(True), "would_do": dg.MetadataValue.md(listing)})
    record = step_ledger(context, ch, ddl)
    with run_lock(context, ch, ddl), record.step("clickhouse.rollback") as summary:
        report = rollback_phase1(ch, ddl, log=context.log.info)
        summary.update(dropped=report.dropped, tables={t.table: t.action for t in report.tables})
    record.mark(ledger.PHASE1_STEPS, "rolled_back", detail={"run_id": context.run.run_id})
    rows = [t.as_dict() for t in report.tables]
    return dg.Output(None, metadata={
        "dry_run": dg.MetadataValue.bool(False),
        "objects_dropped": dg.MetadataValue.int(len(report.dropped)),
        "dropped": dg.MetadataValue.md("\n".join(f"- {d}" for d in report.dropped) or "_none_"),
        "tables": table_of(rows, ["table", "action", "months_copied", "rows_copied", "caught_up_before_swap",
                                  "reconciled_after_swap"]),
        "events_restored_after_swap": dg.MetadataValue.int(
            sum(t.rows_copied + t.caught_up_before_swap + t.reconciled_after_swap for t in report.tables)),
    })


@dg.job(
    executor_def=dg.in_process_executor,
    tags={"dbopt/phase": "1", "dbopt/system": "clickhouse", "dbopt/rollback": "true"},
    description=(
        "Returns ClickHouse to the baseline tables of the contract, keeping every event (also those written after "
        'Phase 1), and removes what Phase 1.2 created. Idempotent. Dry run by default: set confirm to "rollback" '
        "in the op config to roll back."
    ),
)
def rollback_phase1_clickhouse() -> None:
    rollback_clickhouse()
