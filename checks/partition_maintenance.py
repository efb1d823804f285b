"""The plan's alert as a check: "ClickHouse partition count > 36 (need cleanup)"."""

import dagster as dg

from dbopt.clickhouse import partitions
from pipelines.clickhouse_steps import POOL, check_result, connect, table_of
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource


def partition_alert_result(
    counts: dict[str, int], most: int = partitions.ALERT_PARTITIONS, **extra: dg.MetadataValue
) -> dg.AssetCheckResult:
    """Passes when no table has more than `most` partitions (shared with the monitoring alert)."""
    over = [{"table": t, "partitions": n, "alert_above": most} for t, n in counts.items() if n > most]
    return check_result(
        not over,
        figures={"max_partitions": max(counts.values(), default=0), "tables_over_alert": len(over)},
        offending=over,
        next_step="Run partition_cleanup (lower retention_months for the listed tables if it already runs daily).",
        partitions_per_table=table_of([{"table": t, "partitions": n} for t, n in counts.items()]),
        **extra,
    )


@dg.asset_check(
    asset="partition_maintenance",
    pool=POOL,
    description=f"Partitions per table (active parts with rows only) stay at or below {partitions.ALERT_PARTITIONS}.",
)
@operator_errors
def partitions_within_alert(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
    """Many partitions mean many parts per query and slow merges; the plan alerts above 36."""
    ch, _ddl = connect(clickhouse)
    return partition_alert_result(partitions.partition_counts(ch))
