"""What a step cost the database: table and index sizes, dead tuples, WAL written.

Every backfill step and the rollout's last step take a snapshot before and after their
work and report the difference, so a team sees what the rollout did to their disk (a
backfill that rewrites every row can leave its table 1.6x its compacted size for good).
A figure that cannot be read (a standby has no current WAL position, a role may not see a
catalog) is "unknown", never a failed step: the work matters more than its measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg

from dbopt.errors import DboptError
from dbopt.postgres import session
from dbopt.postgres.connect import PgConnector

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Relation:
    table: str
    name: str
    kind: str  # "table" (heap, TOAST and maps) or "index"
    bytes: int


@dataclass
class Snapshot:
    relations: dict[str, Relation] = field(default_factory=dict)
    dead_tuples: dict[str, int] = field(default_factory=dict)
    live_tuples: dict[str, int] = field(default_factory=dict)
    wal_lsn: int | None = None
    problems: list[str] = field(default_factory=list)

    def total(self, table: str) -> int | None:
        sizes = [r.bytes for r in self.relations.values() if r.table == table]
        return sum(sizes) if sizes else None


def snapshot(connector: PgConnector, tables: Sequence[str]) -> Snapshot:
    """Sizes, dead tuples and the WAL position now; each figure on its own, none fatal."""
    snap = Snapshot()
    try:
        with connector.dedicated(autocommit=True) as conn:
            for what, read in (("sizes", _sizes), ("dead tuples", _tuples), ("WAL position", _wal)):
                try:
                    with conn.transaction():
                        conn.execute("SET LOCAL statement_timeout = '10s'")
                        conn.execute("SET LOCAL lock_timeout = '500ms'")
                        read(conn, list(tables), snap)
                except psycopg.Error as exc:
                    snap.problems.append(f"{what}: {session.first_line(exc)}")
    except (psycopg.Error, DboptError) as exc:  # DboptError: the connector's sentence, password masked
        snap.problems.append(f"connection: {session.first_line(exc)}")
    return snap


def _sizes(conn: psycopg.Connection, tables: list[str], snap: Snapshot) -> None:
    # pg_table_size: heap, TOAST, free space and visibility maps; a missing table is skipped.
    rows = conn.execute(
        """
        SELECT t.name, t.name, 'table', pg_table_size(to_regclass(t.name))
        FROM unnest(%(tables)s::text[]) AS t(name) WHERE to_regclass(t.name) IS NOT NULL
        UNION ALL
        SELECT t.name, i.indexrelid::regclass::text, 'index', pg_relation_size(i.indexrelid)
        FROM unnest(%(tables)s::text[]) AS t(name) JOIN pg_index i ON i.indrelid = to_regclass(t.name)
        """,
        {"tables": tables},
    ).fetchall()
    for table, name, kind, size in rows:
        snap.relations[name] = Relation(table, name, kind, int(size or 0))


def _tuples(conn: psycopg.Connection, tables: list[str], snap: Snapshot) -> None:
    # The statistics system's counts: approximate and a moment late, but free (no scan).
    rows = conn.execute(
        "SELECT t.name, s.n_dead_tup, s.n_live_tup FROM unnest(%s::text[]) AS t(name) "
        "JOIN pg_stat_user_tables s ON s.relid = to_regclass(t.name)",
        (tables,),
    ).fetchall()
    for table, dead, live in rows:
        snap.dead_tuples[table] = int(dead or 0)
        snap.live_tuples[table] = int(live or 0)


def _wal(conn: psycopg.Connection, tables: list[str], snap: Snapshot) -> None:
    row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    snap.wal_lsn = int(row[0]) if row and row[0] is not None else None


@dataclass(frozen=True)
class Change:
    """One relation's size before and after, or a table's dead tuples."""

    relation: str
    kind: str
    before: int | None
    after: int | None


def changes(before: Snapshot, after: Snapshot, tables: Sequence[str]) -> list[Change]:
    """Per table: its total, its heap, each index, then its dead tuples, before and after."""
    out: list[Change] = []
    for table in tables:
        if before.total(table) is None and after.total(table) is None:
            continue
        out.append(Change(table, "total bytes", before.total(table), after.total(table)))
        names = list(dict.fromkeys([*before.relations, *after.relations]))
        for name in sorted(names, key=lambda n: (_kind(before, after, n) != "table", n)):
            rel = before.relations.get(name) or after.relations[name]
            if rel.table != table:
                continue
            b, a = before.relations.get(name), after.relations.get(name)
            out.append(Change(name, f"{rel.kind} bytes", b.bytes if b else None, a.bytes if a else None))
        out.append(Change(table, "dead tuples", before.dead_tuples.get(table), after.dead_tuples.get(table)))
    return out


def wal_written(before: Snapshot, after: Snapshot) -> int | None:
    """Bytes of WAL written by the whole server between the snapshots (every session's, not only ours)."""
    if before.wal_lsn is None or after.wal_lsn is None:
        return None
    return after.wal_lsn - before.wal_lsn


def human(size: int | None) -> str:
    if size is None:
        return UNKNOWN
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"


def _kind(before: Snapshot, after: Snapshot, name: str) -> str:
    rel = before.relations.get(name) or after.relations.get(name)
    return rel.kind if rel else ""
