"""Issue 15: before phase1_clickhouse changes anything, what it would meet on this server."""

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import preflight
from pipelines.clickhouse_steps import POOL, connect, sql_references
from pipelines.failures import operator_errors
from pipelines.findings_metadata import detail_table, findings_metadata
from pipelines.metadata import preflight_group
from pipelines.resources import ClickHouseResource

SQL = tuple(f"{preflight.DIR}/{name}" for name in (
    "010_server.sql", "020_tables.sql", "030_months.sql", "040_disks.sql", "045_default_disk.sql",
    "050_inflight_inserts.sql"))
PREFLIGHT = {**preflight_group("clickhouse"), "pool": POOL}
D = preflight.Thresholds()


class ClickHousePreflightConfig(dg.Config):
    max_disk_use: float = Field(default=D.max_disk_use, description=(
        "Share of a disk's usable free space phase1_clickhouse may take (above 0, at most 1); the rest is the "
        "safety margin. Lower it to demand more headroom."))
    derived_fraction: float = Field(default=D.derived_fraction, description=(
        "Rollups and candidate tables, as a share of the CDC tables' bytes, in the disk need."))
    inflight_warn_s: float = Field(default=D.inflight_warn_s, description=(
        "An INSERT into a CDC table running longer than this (s) is a warning: the swaps wait for it."))

    def thresholds(self) -> preflight.Thresholds:
        return preflight.Thresholds(self.max_disk_use, self.derived_fraction, self.inflight_warn_s)


@dg.asset(
    **PREFLIGHT,
    metadata=sql_references(*SQL),
    description=(
        "Read-only readiness of this ClickHouse for phase1_clickhouse: rows, bytes and months per CDC table; free "
        "space on each table's disk against what the rollout keeps (each table again, as the old one stays a "
        "backup, plus rollups and candidate tables) within max_disk_use; the materialized views the tables feed; "
        "INSERTs in flight; the database engine (EXCHANGE TABLES) and the version (MODIFY QUERY needs 24.1). Its "
        "blocking checks stop phase1_clickhouse before any change on a no-go. Writes nothing. Rollback: none needed."
    ),
)
@operator_errors
def clickhouse_preflight(context: dg.AssetExecutionContext, config: ClickHousePreflightConfig,
                         clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """A rollout that would run out of disk halfway is stopped before it starts."""
    thresholds = config.thresholds().validate()
    ch, _ = connect(clickhouse)
    found = preflight.findings(ch, thresholds)
    for line in preflight.format_findings(found):
        context.log.info(line)
    by_name = {f.name: f for f in found}
    metadata = findings_metadata(found)
    metadata["cdc_tables"] = detail_table(list(by_name["clickhouse_cdc_tables"].details))
    metadata["disks"] = detail_table(list(by_name["clickhouse_disk_space"].details))
    metadata["materialized_views"] = detail_table(list(by_name["clickhouse_materialized_views"].details))
    metadata["inserts_in_flight"] = detail_table(list(by_name["clickhouse_inserts_in_flight"].details))
    return dg.MaterializeResult(metadata=metadata)
