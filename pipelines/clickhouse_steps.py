"""How Dagster steps drive the ClickHouse mechanisms: client, ledger, metadata, rollback job.

Every ClickHouse asset, check and op runs in pool `clickhouse`: chDB allows one process
per data folder, and a server is better off with one rollout step at a time.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import ledger, partitions
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl
from dbopt.errors import DboptError
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

OWNERS = ["team:platform"]
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
    return ledger.Ledger(ch, ddl, run_id=context.run_id)


def sql_references(*relatives: str) -> dict[str, dg.MetadataValue]:
    """Definition metadata: the SQL files a step runs, so the UI links what it changes."""
    return {
        "sql_files": dg.MetadataValue.md("\n".join(f"- `sql/{r}`" for r in relatives)),
        "sql_checksum": dg.MetadataValue.text(ledger.steps_checksum(*relatives)),
    }


def md_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> dg.MetadataValue:
    """A markdown table of dicts (the first row's keys unless columns are given)."""
    if not rows:
        return dg.MetadataValue.md("_none_")
    cols = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 1000 else f"{v:,.0f}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        if isinstance(v, list | tuple):
            return ", ".join(str(x) for x in v) or "-"
        return str(v).replace("|", "\\|") if v not in (None, "") else "-"

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


def numbers(values: dict[str, Any]) -> dict[str, dg.MetadataValue]:
    out: dict[str, dg.MetadataValue] = {}
    for k, v in values.items():
        if isinstance(v, bool):
            out[k] = dg.MetadataValue.bool(v)
        elif isinstance(v, int):
            out[k] = dg.MetadataValue.int(v)
        elif isinstance(v, float):
            out[k] = dg.MetadataValue.float(v)
        else:
            out[k] = dg.MetadataValue.text(str(v))
    return out


def check_result(passed: bool, *, figures: dict[str, Any], offending: Iterable[dict[str, Any]] = (),
                 next_step: str = "", severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
                 **extra: dg.MetadataValue) -> dg.AssetCheckResult:
    """A check result whose metadata shows the figures, a sample of offending rows and what to do."""
    metadata = numbers(figures)
    metadata.update(extra)
    sample = list(offending)[:20]
    if not passed:
        metadata["offending_sample"] = md_table(sample)
        metadata["next_step"] = dg.MetadataValue.text(next_step)
    return dg.AssetCheckResult(passed=passed, severity=severity, metadata=metadata)


# --- rollback_phase1_clickhouse ---------------------------------------------------------------

CONFIRMATION = "rollback"


class RollbackConfig(dg.Config):
    confirm: str = Field(
        description=f'Required: type "{CONFIRMATION}" to return ClickHouse to the baseline tables.',
    )


@dg.op(
    pool=POOL,
    tags={"system": "clickhouse"},
    description=(
        "Drops the feed candidate tables (with staging tables and backups), the rollups and all their views, then "
        "restores every CDC table to the baseline layout from its backup plus every event written since the swap "
        "(copied back month by month, swapped with EXCHANGE TABLES, reconciled). Readers see one table or the other, "
        "never a partial one; no lock blocks writers. Idempotent: rerun after any failure. Requires confirm = "
        '"rollback".'
    ),
)
@operator_errors
def rollback_clickhouse(context: dg.OpExecutionContext, config: RollbackConfig,
                        clickhouse: ClickHouseResource) -> dg.Output[None]:
    """Undoes Phase 1.2 so the application reads the baseline tables again, without losing an event."""
    from dbopt.clickhouse.rollback import rollback_phase1

    if config.confirm.strip() != CONFIRMATION:
        raise DboptError(f'confirm is {config.confirm!r}; type exactly "{CONFIRMATION}" to roll ClickHouse back.')
    ch, ddl = connect(clickhouse)
    record = step_ledger(context, ch, ddl)
    with record.step("clickhouse.rollback") as summary:
        report = rollback_phase1(ch, ddl, log=context.log.info)
        summary.update(dropped=report.dropped, tables={t.table: t.action for t in report.tables})
    record.mark(ledger.PHASE1_STEPS, "rolled_back", detail={"run_id": context.run_id})
    rows = [t.as_dict() for t in report.tables]
    return dg.Output(None, metadata={
        "objects_dropped": dg.MetadataValue.int(len(report.dropped)),
        "dropped": dg.MetadataValue.md("\n".join(f"- {d}" for d in report.dropped) or "_none_"),
        "tables": md_table(rows, ["table", "action", "months_copied", "rows_copied", "caught_up_before_swap",
                                  "reconciled_after_swap"]),
        "events_restored_after_swap": dg.MetadataValue.int(
            sum(t.rows_copied + t.caught_up_before_swap + t.reconciled_after_swap for t in report.tables)),
    })


@dg.job(
    executor_def=dg.in_process_executor,
    tags={"dbopt/phase": "1", "dbopt/system": "clickhouse", "dbopt/rollback": "true"},
    description=(
        "Returns ClickHouse to the baseline tables of the contract, keeping every event (also those written after "
        'Phase 1), and removes what Phase 1.2 created. Idempotent. Set confirm to "rollback" in the op config.'
    ),
)
def rollback_phase1_clickhouse() -> None:
    rollback_clickhouse()


def retention_description() -> str:
    return ", ".join(f"{t} {m}" for t, m in partitions.RETENTION_DEFAULTS.items())
