"""Checks after the repartition: every month kept, every view still fed by its table."""

import dagster as dg

from dbopt.clickhouse import catalog, repartition, rollups, swap
from pipelines.clickhouse_steps import POOL, check_result, connect, table_of
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource


@dg.asset_check(
    asset="cdc_partitioning",
    blocking=True,
    pool=POOL,
    description=(
        "Per table and month: the partitioned table holds at least the rows of the backup (the table it replaced), "
        "and the same rows (checksum) where the counts are equal; months older than the oldest kept month count as "
        "dropped by partition_cleanup. Blocks the rollups and candidates in the same run."
    ),
)
@operator_errors
def cdc_months_match_backup(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """A month with fewer rows than before the swap means events were lost: stop before anything reads them."""
    ch, _ddl = connect(clickhouse)
    rows, bad = [], []
    for table in repartition.CDC_TABLES:
        backups = swap.backups(ch, table)
        info = catalog.table(ch, table)
        if not backups or info is None:
            rows.append({"table": table, "backup": "-", "note": "no backup to compare"})
            continue
        columns = catalog.columns(ch, table)
        old = repartition.month_stats(ch, backups[0], columns)
        new = repartition.month_stats(ch, table, columns)
        oldest_kept = min(new) if new else 0
        equal = grown = dropped = 0
        for month, before in sorted(old.items()):
            after = new.get(month)
            if after is None and month < oldest_kept:
                dropped += 1
            elif after is None or after.rows < before.rows or (after.rows == before.rows and after != before):
                bad.append({"table": table, "month": month, "rows_before": before.rows,
                            "rows_now": after.rows if after else 0, "checksum_equal": after == before})
            elif after.rows == before.rows:
                equal += 1
            else:
                grown += 1
        rows.append({"table": table, "backup": backups[0], "months_equal": equal, "months_with_new_events": grown,
                     "months_dropped_by_retention": dropped, "months_short": sum(b["table"] == table for b in bad)})
    return check_result(
        not bad,
        figures={"months_short": len(bad)},
        offending=bad,
        next_step="Do not run partition_cleanup; rerun phase1_clickhouse (the reconciliation adds missing events from "
                  "the backup), or run rollback_phase1_clickhouse to return to the backup tables.",
        tables=table_of(rows),
    )


@dg.asset_check(
    asset="cdc_partitioning",
    blocking=True,
    pool=POOL,
    description=(
        "Every materialized view fed by a CDC table before the swap still is: no view follows a backup or work table "
        "(what a RENAME of the live table would cause), and each rollup view is fed by its source table."
    ),
)
@operator_errors
def cdc_views_attached(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """A view detached from its table stops counting new events silently."""
    ch, _ddl = connect(clickhouse)
    old_tables = sorted(catalog.tables(ch, like="%\\_\\_backup\\_%")) + sorted(catalog.tables(ch, like="%\\_\\_repart%"))
    behind = swap.views_left_behind(ch, [t for t in old_tables if t.split("__")[0] in repartition.CDC_TABLES])
    offending = [{"view": v, "fed_by": t, "should_be_fed_by": t.split("__")[0]} for t, vs in behind.items() for v in vs]
    infos = catalog.tables(ch, list(repartition.CDC_TABLES))
    for rollup in rollups.ROLLUPS.values():
        present = catalog.tables(ch, [rollup.view(s) for s in rollup.sources])
        for source in rollup.sources:
            view = rollup.view(source)
            if view in present and (source not in infos or view not in infos[source].views):
                offending.append({"view": view, "fed_by": "-", "should_be_fed_by": source})
    rows = [{"table": t, "views": list(i.views)} for t, i in infos.items()]
    return check_result(
        not offending,
        figures={"views_detached": len(offending)},
        offending=offending,
        next_step="Re-point each view at its table with ALTER TABLE <view> MODIFY QUERY (or drop and recreate it and "
                  "rebuild its rollup with rebuild: true); never RENAME a live CDC table.",
        views=table_of(rows),
    )
