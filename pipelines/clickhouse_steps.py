"""How Dagster steps drive the ClickHouse mechanisms: client, ledger, metadata, rollback job.

Every ClickHouse asset, check and op runs in pool `clickhouse`: chDB allows one process
per data folder, and a server is better off with one rollout step at a time.
"""


import dagster as dg

from dbopt.clickhouse import ledger, runlock
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl
from pipelines import metadata
from pipelines.metadata import OWNERS, check_result, numbers, table_of  # noqa: F401 (re-exported to steps)
from pipelines.resources import ClickHouseResource

POOL = "clickhouse"
PHASE1 = {
    "group_name": "phase1_clickhouse",
    "kinds": {"clickhouse"},
    "owners": OWNERS,
    "tags": {"phase": "1", "system": "clickhouse"},
    "pool": POOL,
}
OPERATIONS = {
    "group_name": "operations",
    "kinds": {"clickhouse"},
    "owners": OWNERS,
    "tags": {"system": "clickhouse"},
    "pool": POOL,
}


def connect(clickhouse: ClickHouseResource) -> tuple[ClickHouse, Ddl]:
    """The step's client (opened on first use, closed by the resource) and its DDL renderer."""
    return clickhouse.client(), Ddl(clickhouse.cluster_name())


def step_ledger(context: dg.AssetExecutionContext | dg.OpExecutionContext | dg.AssetCheckExecutionContext,
                ch: ClickHouse, ddl: Ddl) -> ledger.Ledger:
    return ledger.Ledger(ch, ddl, run_id=context.run.run_id)


def run_lock(context: dg.AssetExecutionContext | dg.OpExecutionContext, ch: ClickHouse, ddl: Ddl) -> runlock.RunLock:
    """The database-wide lock every changing ClickHouse step holds (pools do not see `dagster job execute`)."""
    return runlock.RunLock(ch, ddl, run_id=context.run.run_id, job=context.job_name, log=context.log.warning)


def sql_references(*relatives: str) -> dict[str, dg.MetadataValue]:
    """Definition metadata: the SQL files a step runs (linked in the UI) and their checksum."""
    return {**metadata.sql_references(*relatives), "sql_checksum": dg.MetadataValue.text(ledger.steps_checksum(*relatives))}
