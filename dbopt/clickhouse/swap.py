"""Build aside, verify, then swap: `EXCHANGE TABLES`, keeping the old table as a backup.

Used by the repartition of the CDC tables and by every rebuild of the feed candidate
tables. `EXCHANGE` is atomic and keeps materialized views attached to the *name*
(a view fed by `likes_cdc` is fed by whichever table is called `likes_cdc`);
`RENAME` of a source table would silently take its views along. So the old table is
only renamed to its backup name *after* the exchange, when no view follows it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dbopt import sqlfiles
from dbopt.clickhouse import catalog
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl, ident
from dbopt.errors import DboptError

COMMON = "clickhouse/phase1/common"


def stamp(now: datetime | None = None) -> str:
    """A sortable UTC timestamp for backup names, down to the millisecond."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}"


def backup_name(table: str, when: str) -> str:
    return f"{ident(table)}__backup_{when}"


def backups(ch: ClickHouse, table: str) -> list[str]:
    """Backups of a table, newest first."""
    found = catalog.tables(ch, like=f"{ident(table)}\\_\\_backup\\_%")
    return sorted(found, reverse=True)


def create_like(ch: ClickHouse, ddl: Ddl, name: str, like: str) -> None:
    """An empty table with the structure, engine and keys of another."""
    ddl.run(ch, f"{COMMON}/create_like.sql", name=ident(name), like=ident(like))


def exchange(ch: ClickHouse, ddl: Ddl, a: str, b: str) -> None:
    ddl.run(ch, f"{COMMON}/exchange.sql", a=ident(a), b=ident(b))


def rename(ch: ClickHouse, ddl: Ddl, old: str, new: str) -> None:
    """Only for tables no view reads from (a backup, a staging table)."""
    ddl.run(ch, f"{COMMON}/rename.sql", old=ident(old), new=ident(new))


def drop(ch: ClickHouse, ddl: Ddl, name: str) -> None:
    ddl.run(ch, f"{COMMON}/drop.sql", name=ident(name))


def attach_all(ch: ClickHouse, target: str, source: str) -> None:
    """Hard-link every part of `source` into `target` (same structure and keys).

    Unlike an INSERT, attaching parts does not feed the target's materialized views,
    so rows they already counted are not counted twice.
    """
    ch.script(sqlfiles.load(f"{COMMON}/attach_all.sql", {"target": ident(target), "source": ident(source)}))


def views_left_behind(ch: ClickHouse, names: list[str]) -> dict[str, tuple[str, ...]]:
    """Views still fed by tables that are no longer live (backups, work tables): should be none."""
    return {name: info.views for name, info in catalog.tables(ch, names).items() if info.views}


def verify_views(ch: ClickHouse, table: str, expected: tuple[str, ...], old: str | None = None) -> None:
    """After a swap, every view that was fed by `table` still is, and none follows the old table."""
    info = catalog.table(ch, table)
    now = info.views if info else ()
    missing = sorted(set(expected) - set(now))
    behind = views_left_behind(ch, [old]) if old else {}
    if missing or behind:
        names = ", ".join(missing or [v for vs in behind.values() for v in vs])
        raise DboptError(
            f"After swapping {table}, the views {names} are no longer fed by it; re-point them with "
            f"ALTER TABLE <view> MODIFY QUERY (or run rollback_phase1_clickhouse) before new events arrive."
        )


def inserts_still_running(ch: ClickHouse, ddl: Ddl, tables: Sequence[str], *, since: float, timeout_s: float,
                          poll_s: float = 0.5) -> list[str]:
    """Wait until no INSERT naming one of `tables` that started before `since` (time.monotonic())
    still runs, on this server or every replica; returns the tables still busy at the timeout."""
    sql = ddl.load("clickhouse/phase1/cdc_partitioning/050_inflight_inserts.sql")
    deadline = time.monotonic() + timeout_s
    while True:
        busy = [t for t in tables if ch.scalar(sql, {"table": ident(t), "since_swap_s": time.monotonic() - since})]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(poll_s)


@dataclass(frozen=True)
class Swapped:
    table: str
    backup: str | None
    dropped_backups: tuple[str, ...]
    views: tuple[str, ...]


def swap_in(ch: ClickHouse, ddl: Ddl, live: str, staging: str, *, keep_backups: int, when: str | None = None) -> Swapped:
    """Make a fully built `staging` table the live one; the previous one becomes a backup.

    `keep_backups` backups of the table are kept (0: the previous table is dropped).
    """
    info = catalog.table(ch, live)
    views = info.views if info else ()
    if info is None:
        create_like(ch, ddl, live, staging)
    exchange(ch, ddl, live, staging)
    verify_views(ch, live, views, old=staging)
    backup = None
    if keep_backups > 0 and info is not None:  # a first build has nothing to keep
        backup = backup_name(live, when or stamp())
        rename(ch, ddl, staging, backup)
    else:
        drop(ch, ddl, staging)
    dropped = prune_backups(ch, ddl, live, keep_backups)
    return Swapped(live, backup, tuple(dropped), views)


def prune_backups(ch: ClickHouse, ddl: Ddl, table: str, keep: int) -> list[str]:
    """Drop all but the newest `keep` backups of a table."""
    old = backups(ch, table)[max(keep, 0) :]
    for name in old:
        drop(ch, ddl, name)
    return old
