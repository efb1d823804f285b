"""Preflight findings in Dagster: a table in the asset's metadata, and one check result per
finding read back from that table, so the checks say exactly what the asset found.

Used by the ClickHouse and Redis preflights (`assets/clickhouse_preflight.py`,
`assets/redis_preflight.py`); the shape of a finding is `dbopt/preflight.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dagster as dg

from dbopt.preflight import Finding, Verdict, verdict

SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("finding", "string", description="The check that reports it."),
    dg.TableColumn("verdict", "string", description="go, warn, or no_go (stops the rollout)."),
    dg.TableColumn("value", "string", description="What was found."),
    dg.TableColumn("threshold", "string", description="What it is held to."),
    dg.TableColumn("what it means", "string", description="The sentence to act on."),
])


def findings_metadata(found: Sequence[Finding]) -> dict[str, dg.MetadataValue]:
    """The asset's metadata: the verdict, and every finding as a row of a table."""
    return {
        "verdict": dg.MetadataValue.text(verdict(found).value),
        "findings": dg.MetadataValue.table(
            records=[dg.TableRecord(data=f.as_row()) for f in found], schema=SCHEMA),
        "no_go": dg.MetadataValue.int(sum(f.verdict is Verdict.NO_GO for f in found)),
        "warn": dg.MetadataValue.int(sum(f.verdict is Verdict.WARN for f in found)),
    }


def detail_table(rows: Sequence[dict]) -> dg.MetadataValue:
    """Details of a finding (one dict per row, same keys) as a table with a string schema."""
    if not rows:
        return dg.MetadataValue.text("none")
    cols = list(rows[0].keys())
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in cols])
    return dg.MetadataValue.table(
        records=[dg.TableRecord(data={c: "" if r.get(c) is None else str(r.get(c)) for c in cols}) for r in rows],
        schema=schema)


def check_specs(asset: str, names: Sequence[str], descriptions: dict[str, str]) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=asset, blocking=True, description=descriptions.get(name, ""))
            for name in names]


def check_results(context: dg.AssetCheckExecutionContext, asset: str,
                  names: Sequence[str]) -> Iterator[dg.AssetCheckResult]:
    """One result per finding, from the asset's latest materialization in this instance:
    ERROR for a no-go (blocking: the rollout stops), WARN for a warning, passed for a go."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey(asset))
    table = event.asset_materialization.metadata.get("findings") if event and event.asset_materialization else None
    rows = {r.data["finding"]: r.data for r in (table.value.records if table else [])}
    for name in names:
        row = rows.get(name)
        if row is None:
            yield dg.AssetCheckResult(
                check_name=name, asset_key=asset, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                metadata={"what it means": dg.MetadataValue.text(
                    f"{asset} recorded no {name} finding; materialize {asset} again.")})
            continue
        found = Verdict(row["verdict"])
        yield dg.AssetCheckResult(
            check_name=name, asset_key=asset, passed=found is Verdict.GO,
            severity=dg.AssetCheckSeverity.ERROR if found is Verdict.NO_GO else dg.AssetCheckSeverity.WARN,
            metadata={k: dg.MetadataValue.text(str(v)) for k, v in row.items() if k != "finding"})
