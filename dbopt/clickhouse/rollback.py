"""Undo Phase 1.2 on ClickHouse: back to the baseline tables, keeping every event.

In order: the candidate tables (with their staging tables and backups), the rollups
and their views (so no view writes while the CDC tables move), then each CDC table is
restored from its backup plus every event written since the swap (repartition's steps
run backwards). What is already undone is skipped, so it can run any number of times,
also after a half-finished Phase 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dbopt.clickhouse import candidates, catalog, repartition, rollups, swap
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl


@dataclass
class RollbackReport:
    dropped: list[str] = field(default_factory=list)
    tables: list[repartition.TableReport] = field(default_factory=list)


def rollback_phase1(ch: ClickHouse, ddl: Ddl, *, log: Callable[[str], None] = lambda _: None) -> RollbackReport:
    report = RollbackReport()
    report.dropped += candidates.drop_all(ch, ddl)
    for rollup in rollups.ROLLUPS.values():
        present = sorted(catalog.tables(ch, rollup.objects()))
        if present:
            rollups.drop(ch, ddl, rollup)
            report.dropped += present
    if report.dropped:
        log(f"dropped {len(report.dropped)} objects Phase 1.2 created: {', '.join(report.dropped)}")
    for table in repartition.CDC_TABLES:
        if catalog.table(ch, table) is None:
            continue
        result = repartition.restore_baseline(ch, ddl, table, log=log)
        report.tables.append(result)
        log(f"{table}: {result.action}")
    for name in sorted(catalog.tables(ch, like="dbopt\\_carry\\_%")):
        swap.drop(ch, ddl, name)
        report.dropped.append(name)
    return report


def plan_rollback(ch: ClickHouse) -> list[str]:
    """What rollback_phase1 would do here, one line per object (the dry run's listing)."""
    lines = [f"drop {name}" for name in sorted(catalog.tables(ch, like="feed\\_candidates\\_%"))]
    for rollup in rollups.ROLLUPS.values():
        lines += [f"drop {name}" for name in sorted(catalog.tables(ch, rollup.objects()))]
    for table in repartition.CDC_TABLES:
        info = catalog.table(ch, table)
        backups = swap.backups(ch, table)
        if info is not None and info.partition_key:
            source = f"backup {backups[-1]}" if backups else "no backup (rebuilt from the live table)"
            lines.append(f"restore {table} to the baseline layout from {source} plus every event since the swap")
        elif backups:
            lines.append(f"drop leftover backups of {table}: {', '.join(backups)}")
    lines += [f"drop {name}" for name in sorted(catalog.tables(ch, like="dbopt\\_carry\\_%"))]
    return lines
