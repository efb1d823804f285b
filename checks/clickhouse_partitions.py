"""The plan's alert as a check: "ClickHouse partition count > 36 (need cleanup)"."""

import dagster as dg

from dbopt.clickhouse import partitions
from pipelines.clickhouse_steps import POOL, check_result, connect, md_table
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource


@dg.asset_check(
    asset="partition_maintenance",
    pool=POOL,
    description=f"Partitions per table (active parts with rows only) stay at or below {partitions.ALERT_PARTITIONS}.",
)
@operator_errors
def partitions_within_alert(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """Many partitions mean many parts per query and slow merges; the plan alerts above 36."""
    ch, _ddl = connect(clickhouse)
    counts = partitions.partition_counts(ch)
    over = [{"table": t, "partitions": n, "alert_above": partitions.ALERT_PARTITIONS}
            for t, n in counts.items() if n > partitions.ALERT_PARTITIONS]
    return check_result(
        not over,
        figures={"max_partitions": max(counts.values(), default=0), "tables_over_alert": len(over)},
        offending=over,
        next_step="Run partition_cleanup (lower retention_months for the listed tables if it already runs daily).",
        partitions_per_table=md_table([{"table": t, "partitions": n} for t, n in counts.items()]),
    )
