"""Partition retention on ClickHouse (the plan: "Data cleanup: Instant (partition drops)")."""

from contextlib import nullcontext
from datetime import timedelta

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import ledger, partitions
from pipelines.clickhouse_steps import OPERATIONS, connect, run_lock, sql_references, step_ledger, table_of
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

SQL = (
    "clickhouse/partition_maintenance/010_drop_partition.sql",
    "clickhouse/partition_maintenance/030_carry_forward.sql",
    "clickhouse/partition_maintenance/020_carry_forward_posts_cdc.fragment.sql",
    "clickhouse/partition_maintenance/020_carry_forward_follows_cdc.fragment.sql",
)


class PartitionCleanupConfig(dg.Config):
    dry_run: bool = Field(default=False, description="List what would be dropped and carried forward; change nothing.")
    retention_months: dict[str, int] = Field(
        default_factory=lambda: dict(partitions.RETENTION_DEFAULTS),
        description="Months kept per table; a month goes when all of it is older than that. Tables left out are "
        "not touched.",
    )
    now: str = Field(
        default="",
        description="ISO 8601 instant to measure retention from (the schedule passes its tick); empty: the ClickHouse "
        "server's clock. An instant later than the server's clock by more than max_clock_skew_s is refused.",
    )
    max_clock_skew_s: float = Field(
        default=partitions.MAX_CLOCK_SKEW.total_seconds(),
        description="How far `now` may be ahead of the ClickHouse server's clock (hosts' clocks differ a little).",
    )


@dg.asset(
    **OPERATIONS,
    deps=["cdc_partitioning"],
    metadata=sql_references(*SQL),
    description=(
        "Drops whole monthly partitions past each table's retention with ALTER TABLE ... DROP PARTITION (a metadata "
        "operation: no rewrite, no lock on writers). Before dropping old months of posts_cdc and follows_cdc it carries "
        "forward the latest row of every live key into the first retained month (same version and created_at), so no "
        "post or follow loses its current state. Dry run lists what would go. Not reversible: dropped events are gone "
        "(the Phase 1 backups still hold the baseline's events until they are removed). Tables not partitioned by "
        "month are skipped."
    ),
)
@operator_errors
def partition_maintenance(
    context: dg.AssetExecutionContext, config: PartitionCleanupConfig, clickhouse: ClickHouseResource
) -> dg.MaterializeResult:
    """Keeps partition counts under the plan's alert (36) and storage bounded."""
    ch, ddl = connect(clickhouse)
    skew = timedelta(seconds=max(config.max_clock_skew_s, 0))
    now = partitions.resolve_now(ch, config.now, max_skew=skew)  # before anything changes
    lock = nullcontext() if config.dry_run else run_lock(context, ch, ddl)  # a dry run changes nothing
    with lock, step_ledger(context, ch, ddl).step("clickhouse.partition_cleanup", ledger.steps_checksum(*SQL)) as summary:
        report = partitions.cleanup(ch, ddl, config.retention_months, dry_run=config.dry_run, now=now,
                                    log=context.log.info, max_skew=skew, run_id=context.run.run_id)
        summary.update(report.as_dict())
    context.log.info(f"retention measured from {report.now.isoformat()} (server clock {report.server_now.isoformat()})")
    counts = partitions.partition_counts(ch)
    drops = [{"table": d.table, "partition": d.partition, "rows": d.rows, "bytes": d.bytes} for d in report.drops]
    return dg.MaterializeResult(metadata={
        "dry_run": dg.MetadataValue.bool(config.dry_run),
        "now": dg.MetadataValue.timestamp(report.now),
        "partitions_dropped" if not config.dry_run else "partitions_to_drop": dg.MetadataValue.int(len(report.drops)),
        "rows_freed" if not config.dry_run else "rows_to_free": dg.MetadataValue.int(report.rows),
        "bytes_freed" if not config.dry_run else "bytes_to_free": dg.MetadataValue.int(report.bytes),
        "carried_forward": table_of([{"table": t, "live_keys": n} for t, n in report.carried.items()]),
        "plan": plan_table(report.plan(config.retention_months)),
        "drops": table_of(drops),
        "retention_months": table_of([{"table": t, "months": m, "kept_from": str(report.kept_from.get(t, "-")),
                                       "note": report.skipped.get(t, "")}
                                      for t, m in config.retention_months.items()]),
        "partitions_per_table": table_of([{"table": t, "partitions": n} for t, n in counts.items()]),
    })


PLAN_COLUMNS = (("table", "string"), ("retention_months", "int"), ("kept_from", "string"), ("partitions", "string"),
                ("rows", "int"), ("live_keys_carried", "int"), ("note", "string"))


def plan_table(rows: list[dict]) -> dg.MetadataValue:
    """Per table: the partitions that go (or would go) and the live keys carried forward."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord(row) for row in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in PLAN_COLUMNS]),
    )
