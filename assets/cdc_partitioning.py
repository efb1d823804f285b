"""Phase 1.2, "Adds time-based partitioning to all CDC tables"."""

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import ledger, repartition
from dbopt.errors import DboptError
from pipelines.clickhouse_steps import PHASE1, connect, run_lock, sql_references, step_ledger, table_of
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

SQL = (
    "clickhouse/phase1/cdc_partitioning/010_create_partitioned.sql",
    "clickhouse/phase1/cdc_partitioning/020_month_stats.sql",
    "clickhouse/phase1/cdc_partitioning/030_copy_month.sql",
    "clickhouse/phase1/cdc_partitioning/040_copy_missing.sql",
    "clickhouse/phase1/common/exchange.sql",
)


class CdcPartitioningConfig(dg.Config):
    tables: list[str] = Field(
        default=list(repartition.CDC_TABLES), description="CDC tables to partition by toYYYYMM(event_ts), in order."
    )
    max_recopies: int = Field(default=2, description="Copies of a month that differs before the step fails.")
    inflight_wait_s: float = Field(
        default=60, description="How long to wait for INSERTs that started before a swap to finish."
    )
    catchup_batch_rows: int = Field(
        default=2_000_000, description="Rows one catch-up statement may compare (bounds its memory)."
    )


@dg.asset(
    **PHASE1,
    deps=["clickhouse_preflight", "clickhouse_plan"],  # issue 15: a no-go stops the run before this first change
    metadata=sql_references(*SQL),
    description=(
        "Rebuilds posts_cdc, likes_cdc, comments_cdc, shares_cdc, follows_cdc and impressions partitioned by "
        "toYYYYMM(event_ts) (same columns, same sort key): copies month by month into <table>__repart comparing rows "
        "and a checksum per month, catches up the events that arrived meanwhile, copies again any month holding rows the "
        "source lacks (never swapping with one), swaps with EXCHANGE TABLES (atomic; "
        "views stay on the name), adds events written into the old table around the swap, and keeps the old table as "
        "<table>__backup_<timestamp>. Writers are never blocked; reads of the copied months cost one scan each. "
        "Rollback: rollback_phase1_clickhouse restores the baseline tables from the backups plus later events."
    ),
)
@operator_errors
def cdc_partitioning(
    context: dg.AssetExecutionContext, config: CdcPartitioningConfig, clickhouse: ClickHouseResource
) -> dg.MaterializeResult:
    """Monthly partitions make retention a metadata operation (DROP PARTITION) and prune reads by time."""
    unknown = sorted(set(config.tables) - set(repartition.CDC_TABLES))
    if unknown:
        raise DboptError(f"{', '.join(unknown)} are not CDC tables of the baseline; list only "
                         f"{', '.join(repartition.CDC_TABLES)} in tables.")
    ch, ddl = connect(clickhouse)
    reports = []
    with run_lock(context, ch, ddl), \
            step_ledger(context, ch, ddl).step("clickhouse.cdc_partitioning", ledger.steps_checksum(*SQL)) as summary:
        for table in config.tables:
            report = repartition.repartition(
                ch, ddl, table, log=context.log.info, max_recopies=config.max_recopies,
                inflight_wait_s=config.inflight_wait_s, batch_rows=config.catchup_batch_rows,
            )
            reports.append(report)
            context.log.info(f"{table}: {report.action}")
        summary.update(tables={r.table: r.action for r in reports})
    rows = [r.as_dict() for r in reports]
    copied = sum(r.rows_copied for r in reports)
    seconds = sum(r.copy_seconds for r in reports)
    return dg.MaterializeResult(metadata={
        "tables": table_of(rows, ["table", "action", "months", "months_copied", "months_skipped", "recopies",
                                  "rows_copied", "rows_per_s", "caught_up_before_swap", "reconciled_after_swap",
                                  "backup", "views"]),
        "rows_copied": dg.MetadataValue.int(copied),
        "months_copied": dg.MetadataValue.int(sum(r.months_copied for r in reports)),
        "rows_per_s": dg.MetadataValue.float(round(copied / seconds, 1) if seconds else 0.0),
        "events_caught_up": dg.MetadataValue.int(
            sum(r.caught_up_before_swap + r.reconciled_after_swap for r in reports)),
        "backups": dg.MetadataValue.md("\n".join(f"- {r.backup}" for r in reports if r.backup) or "_none new_"),
    })
