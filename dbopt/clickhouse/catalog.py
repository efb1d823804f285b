"""What the database holds: tables, their layout, the views that read them, their parts."""

from __future__ import annotations

from dataclasses import dataclass

from dbopt import sqlfiles
from dbopt.clickhouse.client import ClickHouse

MONTHLY_KEYS = ("toYYYYMM(event_ts)", "toYYYYMM(hour)", "toYYYYMM(day)")


@dataclass(frozen=True)
class TableInfo:
    name: str
    engine: str
    partition_key: str
    sorting_key: str
    total_rows: int
    views: tuple[str, ...]  # materialized views fed by inserts into this table

    @property
    def monthly(self) -> bool:
        return self.partition_key.replace(" ", "") in MONTHLY_KEYS


def _info(row: dict) -> TableInfo:
    return TableInfo(
        name=row["name"],
        engine=row["engine"],
        partition_key=row["partition_key"] or "",
        sorting_key=row["sorting_key"] or "",
        total_rows=int(row["total_rows"] or 0),
        views=tuple(sorted(row["views"] or [])),
    )


def tables(ch: ClickHouse, names: list[str] | None = None, like: str | None = None) -> dict[str, TableInfo]:
    """Tables of the current database, by exact names and/or a LIKE pattern."""
    rows = ch.dicts(
        sqlfiles.read("clickhouse/phase1/common/tables.sql"),
        {"names": list(names or []), "like": like or ""},
    )
    return {r["name"]: _info(r) for r in rows}


def table(ch: ClickHouse, name: str) -> TableInfo | None:
    return tables(ch, [name]).get(name)


def column_types(ch: ClickHouse, name: str) -> list[tuple[str, str]]:
    """(name, ClickHouse type) of each column, in declared order."""
    return [(r[0], r[1]) for r in ch.rows(sqlfiles.read("clickhouse/phase1/common/columns.sql"), {"table": name})]


def columns(ch: ClickHouse, name: str) -> list[str]:
    return [n for n, _ in column_types(ch, name)]


def partitions(ch: ClickHouse, name: str) -> list[dict]:
    """Active, non-empty partitions of a table: partition id, rows, bytes on disk, parts."""
    return ch.dicts(sqlfiles.read("clickhouse/phase1/common/partitions.sql"), {"table": name})
