"""The ClickHouse preflight's findings as blocking checks: a no-go fails with ERROR and stops
phase1_clickhouse before its first change; a warning is reported and lets it run."""

import dagster as dg

from pipelines.clickhouse_steps import POOL
from pipelines.findings_metadata import check_results, check_specs

ASSET = "clickhouse_preflight"
FINDINGS = {
    "clickhouse_database_engine": "The database engine allows EXCHANGE TABLES (Atomic or Replicated).",
    "clickhouse_version": "The server has the features the rollout uses (MODIFY QUERY needs 24.1).",
    "clickhouse_cdc_tables": "Every CDC table is there; rows, bytes and months of each.",
    "clickhouse_disk_space": "Free disk for the copies, backups, rollups and candidates, within max_disk_use.",
    "clickhouse_materialized_views": "The materialized views the CDC tables feed.",
    "clickhouse_inserts_in_flight": "No INSERT into a CDC table running longer than inflight_warn_s.",
}


@dg.multi_asset_check(specs=check_specs(ASSET, list(FINDINGS), FINDINGS), pool=POOL)
def clickhouse_preflight_checks(context: dg.AssetCheckExecutionContext):
    """Reads the findings the asset recorded, so the check and the asset never disagree."""
    yield from check_results(context, ASSET, list(FINDINGS))
