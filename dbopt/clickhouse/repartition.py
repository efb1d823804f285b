"""Repartition a live CDC table by month with no event lost (and back, for the rollback).

ClickHouse cannot change a table's PARTITION BY, so the table is rebuilt beside the live
one and swapped in. Writers keep inserting into the live table the whole time:

1. **Copy month by month** into `<table>__repart`: rows and a checksum per month are
   compared with the source; a month that differs is copied again (an interrupted or
   doubled copy), a month that only grew is left to the catch-up. Months already equal
   are skipped, so a rerun resumes where a crash stopped.
2. **Catch up** the events that arrived during the copy: per month whose figures differ,
   the rows the source holds and the new table lacks (a multiset difference); then
   **verify** the other way: a month whose new table holds rows the source lacks (a
   doubled copy, a source `ALTER DELETE`) is copied again, or the step fails unswapped.
3. **Snapshot** the new table (hard links, no copy) and **swap** with `EXCHANGE TABLES`,
   which keeps materialized views on the name. From here writers insert into the new
   table; INSERTs that started before the swap finish into the old one.
4. **Reconcile**: wait for those INSERTs, then every row of the old table that the
   snapshot did not have (it arrived after the catch-up) is added to the live table by
   attaching parts, which does not feed its views twice. A second pass must find nothing.
5. Keep the old table as `<table>__backup_<timestamp>` and check that every view fed by
   the table before the swap is fed by it now, and none by the backup.

The same steps run backwards for the rollback (`restore_baseline`): into the newest
backup (or a new baseline table), so events written after the swap come back too.

The state of an interrupted run is read from the catalog (which tables exist, how they
are partitioned), so every step can be rerun.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse import catalog, swap
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl, ident, ident_list
from dbopt.errors import BaselineMissing, DboptError

DIR = "clickhouse/phase1/cdc_partitioning"
PARTITION_KEY = "toYYYYMM(event_ts)"
CDC_TABLES = ("posts_cdc", "likes_cdc", "comments_cdc", "shares_cdc", "follows_cdc", "impressions")

Log = Callable[[str], None]
Hook = Callable[[str, str], None]  # (table, phase): lets tests act between steps


def work_name(table: str) -> str:
    return f"{table}__repart"


def snapshot_name(table: str) -> str:
    return f"{table}__repart_snap"


def fix_name(table: str) -> str:
    return f"{table}__repart_fix"


@dataclass(frozen=True)
class MonthStat:
    rows: int
    checksum: int


def month_stats(ch: ClickHouse, table: str, columns: list[str], months: list[int] | None = None) -> dict[int, MonthStat]:
    rows = ch.rows(
        sqlfiles.load(f"{DIR}/020_month_stats.sql", {"table": ident(table), "columns": ident_list(columns)}),
        {"months": months or []},
    )
    return {int(m): MonthStat(int(n), int(c)) for m, n, c in rows}


@dataclass
class TableReport:
    table: str
    action: str
    months: int = 0
    months_copied: int = 0
    months_skipped: int = 0
    recopies: int = 0
    rows_copied: int = 0
    copy_seconds: float = 0.0
    caught_up_before_swap: int = 0
    reconciled_after_swap: int = 0
    backup: str | None = None
    views: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows_copied / self.copy_seconds if self.copy_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "action": self.action,
            "months": self.months,
            "months_copied": self.months_copied,
            "months_skipped": self.months_skipped,
            "recopies": self.recopies,
            "rows_copied": self.rows_copied,
            "rows_per_s": round(self.rows_per_s),
            "caught_up_before_swap": self.caught_up_before_swap,
            "reconciled_after_swap": self.reconciled_after_swap,
            "backup": self.backup or "",
            "views": list(self.views),
        }


class Move:
    """Moves one table's events into a table of the other layout and swaps it in."""

    def __init__(
        self,
        ch: ClickHouse,
        ddl: Ddl,
        table: str,
        *,
        partitioned: bool,
        log: Log = lambda _: None,
        hook: Hook | None = None,
        max_recopies: int = 2,
        catchup_rounds: int = 2,
        inflight_wait_s: float = 60.0,
        batch_rows: int = 2_000_000,
    ) -> None:
        self.ch, self.ddl, self.table = ch, ddl, ident(table)
        self.partitioned = partitioned  # True: forward (Phase 1.2); False: back to the baseline
        self.log = log
        self.hook = hook or (lambda _t, _p: None)
        self.max_recopies = max_recopies
        self.catchup_rounds = catchup_rounds
        self.inflight_wait_s = inflight_wait_s
        self.batch_rows = batch_rows  # rows one catch-up statement may group (memory bound)
        self.work = work_name(table)
        self.snap = snapshot_name(table)
        self.fix = fix_name(table)
        self.report = TableReport(table, "")
        self.columns: list[str] = []
        self.sorting_key = ""

    # --- layout -------------------------------------------------------------------------

    def _target_layout(self, info: catalog.TableInfo) -> bool:
        key = info.partition_key.replace(" ", "")
        return key == PARTITION_KEY if self.partitioned else key == ""

    def run(self) -> TableReport:
        info = catalog.table(self.ch, self.table)
        if info is None:
            raise BaselineMissing(
                f"ClickHouse table {self.table} does not exist in database {self.ch.database}; point CLICKHOUSE_URL at "
                f"the feed's database (or run `dbopt seed`) and run again."
            )
        self.columns = catalog.columns(self.ch, self.table)
        if "event_ts" not in self.columns:
            raise BaselineMissing(f"Table {self.table} has no event_ts column, unlike the baseline; check the database.")
        self.sorting_key = info.sorting_key
        present = catalog.tables(self.ch, [self.work, self.snap])
        work = present.get(self.work)
        if self._target_layout(info):
            if work is not None and not self._target_layout(work):
                self.report.action = "resumed after swap"
                self._after_swap(old=self.work, views=info.views)
            elif self.snap in present and not self.partitioned:
                swap.drop(self.ch, self.ddl, self.snap)  # the restore finished but for this clean-up
                self.report.action = "already baseline"
                return self.report
            elif self.snap in present:
                old = (swap.backups(self.ch, self.table) or [None])[0]
                if old is None:
                    raise DboptError(
                        f"{self.table} was swapped but its old table is gone, so the events written during the swap "
                        f"cannot be checked; drop {self.snap} to accept the table as it is, then run again."
                    )
                self.report.action = "resumed after swap"
                self._after_swap(old=old, views=info.views)
            else:
                self.report.action = "already partitioned" if self.partitioned else "already baseline"
                return self.report
        else:
            self.report.action = "repartitioned" if self.partitioned else "restored"
            self._before_swap(info, work)
            self.hook(self.table, "before_swap")
            swap.exchange(self.ch, self.ddl, self.table, self.work)
            self.log(f"{self.table}: swapped in with EXCHANGE TABLES")
            self.hook(self.table, "after_swap")
            self._after_swap(old=self.work, views=info.views)
        self.report.views = catalog.table(self.ch, self.table).views  # type: ignore[union-attr]
        return self.report

    # --- before the swap ------------------------------------------------------------------

    def _create_work(self, work: catalog.TableInfo | None) -> None:
        if work is not None:
            if not self._target_layout(work):
                raise DboptError(
                    f"{self.work} exists with another layout (left by something else); drop it and run again."
                )
            return
        if not self.partitioned:
            newest = (swap.backups(self.ch, self.table) or [None])[0]
            if newest is not None and self._target_layout(catalog.table(self.ch, newest)):  # type: ignore[arg-type]
                swap.rename(self.ch, self.ddl, newest, self.work)
                self.log(f"{self.table}: restoring into backup {newest}")
                return
        file = "010_create_partitioned.sql" if self.partitioned else "010_create_partitioned_rollback.sql"
        self.ddl.run(self.ch, f"{DIR}/{file}", target=self.work, table=self.table, sorting_key=self.sorting_key)

    def _before_swap(self, info: catalog.TableInfo, work: catalog.TableInfo | None) -> None:
        self._create_work(work)
        if catalog.columns(self.ch, self.work) != self.columns:
            raise DboptError(
                f"{self.work} does not have the columns of {self.table}; drop {self.work} and run again."
            )
        self._copy_months()
        self.hook(self.table, "months_copied")
        self._catch_up()
        if self.partitioned:
            self._verify_no_extra_rows()
        swap.drop(self.ch, self.ddl, self.snap)
        swap.create_like(self.ch, self.ddl, self.snap, self.work)
        swap.attach_all(self.ch, self.snap, self.work)

    def _copy_months(self) -> None:
        source = month_stats(self.ch, self.table, self.columns)
        target = month_stats(self.ch, self.work, self.columns)
        self.report.months = len(source)
        todo = [m for m in sorted(source) if target.get(m) != source[m]]
        self.report.months_skipped = len(source) - len(todo)
        if not self.partitioned:
            # Restoring into the baseline backup: it already holds almost every event, so
            # the months that differ get only the rows they lack (the catch-up's way).
            self.report.months_copied = len(todo)
            return
        started = time.monotonic()
        for done, month in enumerate(todo, start=1 + self.report.months_skipped):
            self._copy_month(month, source[month], had_rows=month in target)
            self.report.months_copied += 1
            self.report.copy_seconds = time.monotonic() - started
            self.log(
                f"{self.table}: month {month} copied ({done}/{len(source)} months, "
                f"{self.report.rows_copied:,} rows, {self.report.rows_per_s:,.0f} rows/s)"
            )
            self.hook(self.table, "month_copied")
        self.report.copy_seconds = time.monotonic() - started

    def _copy_month(self, month: int, expected: MonthStat, *, had_rows: bool) -> None:
        """Copy one month into the new (partitioned) table; copy it again while it differs."""
        for attempt in range(self.max_recopies + 1):
            if attempt:
                self.report.recopies += 1
            if had_rows or attempt:
                self.ddl.run(self.ch, f"{DIR}/030_copy_month_rollback.sql", target=self.work,
                             partition_id=_partition_id(month))
            self.ch.command(self._load("030_copy_month.sql", target=self.work, source=self.table), {"month": month})
            got = month_stats(self.ch, self.work, self.columns, [month]).get(month, MonthStat(0, 0))
            if got == expected:
                break
            fresh = month_stats(self.ch, self.table, self.columns, [month]).get(month, MonthStat(0, 0))
            if got == fresh or expected.rows <= got.rows < fresh.rows:
                break  # the month grew while it was copied: the catch-up brings the rest
            expected = fresh
        else:
            raise DboptError(
                f"Month {month} of {self.table} still differs after {self.max_recopies} copies; check the server log "
                f"for failed inserts into {self.work} and run again (finished months are kept)."
            )
        self.report.rows_copied += got.rows

    def _catch_up(self) -> None:
        for _ in range(self.catchup_rounds + (0 if self.partitioned else 1)):
            source = month_stats(self.ch, self.table, self.columns)
            target = month_stats(self.ch, self.work, self.columns)
            behind = [m for m, s in source.items() if target.get(m) != s and target.get(m, MonthStat(0, 0)).rows <= s.rows]
            if not behind:
                return
            before = sum(t.rows for t in target.values())
            for months in self._batches(behind, source):
                self._copy_missing(months, source=self.table, target=self.work, into=self.work)
            added = sum(s.rows for s in month_stats(self.ch, self.work, self.columns).values()) - before
            if self.partitioned or self.report.rows_copied or self.report.caught_up_before_swap:
                self.report.caught_up_before_swap += added
            else:
                self.report.rows_copied = added  # the restore's first round is its copy
            self.log(f"{self.table}: caught up {added:,} events that arrived during the copy ({len(behind)} months)")

    def _verify_no_extra_rows(self) -> None:
        """Every month both ways before the swap: rows and checksum equal, or else the new
        table may lack rows (new events: the catch-up's and the reconcile's) but never hold
        one the source does not. A month with extra rows is copied again; still wrong after
        `max_recopies`, the step fails and the live table stays as it is."""
        for attempt in range(self.max_recopies + 1):
            source = month_stats(self.ch, self.table, self.columns)
            target = month_stats(self.ch, self.work, self.columns)
            differ = sorted(m for m in set(source) | set(target) if source.get(m) != target.get(m))
            extra = dict(self.ch.rows(
                self._load("045_extra_rows.sql", target_rows=self._multiset(self.work),
                           source_rows=self._multiset(self.table)), {"months": differ}
            )) if differ else {}
            if not extra:
                return
            if attempt == self.max_recopies:
                break
            for month in sorted(extra):
                self.log(f"{self.table}: month {month} holds {int(extra[month]):,} rows the source does not "
                         f"(a doubled copy, or rows deleted from the source meanwhile); copying it again")
                self.ddl.run(self.ch, f"{DIR}/030_copy_month_rollback.sql", target=self.work,
                             partition_id=_partition_id(int(month)))
                self.ch.command(self._load("030_copy_month.sql", target=self.work, source=self.table),
                                {"month": int(month)})
                self.report.recopies += 1
            self.hook(self.table, "recopied")
            self._catch_up()
        months = ", ".join(str(m) for m in sorted(extra))
        raise DboptError(
            f"Months {months} of {self.work} still hold rows that {self.table} does not after {self.max_recopies} "
            f"copies, so {self.table} was not swapped; look for a writer inserting into {self.work} or deleting from "
            f"{self.table}, stop it, and run again."
        )

    # --- after the swap -------------------------------------------------------------------

    def _after_swap(self, *, old: str, views: tuple[str, ...]) -> None:
        self._wait_for_inflight_inserts()
        if self.partitioned and old == self.work:
            backup = swap.backup_name(self.table, swap.stamp())
            swap.rename(self.ch, self.ddl, self.work, backup)
            old = backup
        self._reconcile(old)
        swap.verify_views(self.ch, self.table, views, old=old)
        swap.drop(self.ch, self.ddl, self.fix)
        swap.drop(self.ch, self.ddl, self.snap)
        if self.partitioned:
            self.report.backup = old
            self.log(f"{self.table}: old table kept as {old}")
        else:
            swap.drop(self.ch, self.ddl, old)
            self.log(f"{self.table}: baseline restored; the partitioned table is dropped")

    def _wait_for_inflight_inserts(self) -> None:
        swapped_at = time.monotonic()
        if swap.inserts_still_running(self.ch, self.ddl, [self.table], since=swapped_at, timeout_s=self.inflight_wait_s):
            raise DboptError(
                f"INSERTs into {self.table} that started before the swap still run after "
                f"{self.inflight_wait_s:.0f}s; let them finish and run again (the swap is done and kept)."
            )

    def _reconcile(self, old: str) -> None:
        """Add to the live table every row of the old one it lacks; a second pass must find none."""
        # Without the snapshot (a crash right after it was dropped) every month is compared.
        has_snap = catalog.table(self.ch, self.snap) is not None
        snap_stats = month_stats(self.ch, self.snap, self.columns) if has_snap else {}
        for attempt in range(3):
            old_stats = month_stats(self.ch, old, self.columns)
            months = sorted(m for m, s in old_stats.items() if snap_stats.get(m) != s)
            swap.drop(self.ch, self.ddl, self.fix)
            swap.create_like(self.ch, self.ddl, self.fix, self.table)
            for batch in self._batches(months, old_stats):
                self._copy_missing(batch, source=old, target=self.table, into=self.fix)
            added = int(self.ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": self.fix})) or 0)
            if not added:
                return
            swap.attach_all(self.ch, self.table, self.fix)
            self.report.reconciled_after_swap += added
            self.log(f"{self.table}: {added:,} events written into the old table around the swap added")
            if attempt == 2:
                break
        raise DboptError(
            f"Events keep arriving in the old {self.table} table after the swap; find the writer that "
            f"still inserts into {old} by its internal id, stop it, and run again."
        )

    # --- shared ---------------------------------------------------------------------------

    def _load(self, file: str, **values: str) -> str:
        return sqlfiles.load(f"{DIR}/{file}", {"columns": ident_list(self.columns), **values})

    def _multiset(self, table: str, filter: str = "") -> str:
        return self._load("041_month_multiset.fragment.sql", table=ident(table), filter=filter)

    def _batches(self, months: list[int], stats: dict[int, MonthStat]) -> list[list[int]]:
        """Months grouped so that one catch-up statement compares at most `batch_rows` rows."""
        batches: list[list[int]] = []
        rows = 0
        for month in sorted(months):
            size = stats.get(month, MonthStat(0, 0)).rows
            if batches and rows + size <= self.batch_rows:
                batches[-1].append(month)
                rows += size
            else:
                batches.append([month])
                rows = size
        return batches

    def _copy_missing(self, months: list[int], *, source: str, target: str, into: str) -> None:
        source_filter = ""
        if not self.partitioned and "version" in self.columns:
            keys = [c.strip() for c in self.sorting_key.split(",") if c.strip() != "version"]
            source_filter = sqlfiles.load(
                f"{DIR}/040_carried_filter.fragment.sql", {"key_columns": ident_list(keys), "target": target}
            )
        sql = self._load("040_copy_missing.sql", into=into, source_rows=self._multiset(source, source_filter),
                         target_rows=self._multiset(target))
        self.ch.command(sql, {"months": months})


def _partition_id(month: int) -> str:
    text = str(month)
    if not (len(text) == 6 and text.isdigit()):
        raise DboptError(f"{month!r} is not a YYYYMM partition id; this is a bug in dbopt, please report it.")
    return text


def repartition(ch: ClickHouse, ddl: Ddl, table: str, **kwargs: Any) -> TableReport:
    """Phase 1.2: `table` partitioned by toYYYYMM(event_ts), every event kept; old table as a backup."""
    return Move(ch, ddl, table, partitioned=True, **kwargs).run()


def restore_baseline(ch: ClickHouse, ddl: Ddl, table: str, **kwargs: Any) -> TableReport:
    """Rollback: `table` back to the baseline layout, from its newest backup plus every later event."""
    return Move(ch, ddl, table, partitioned=False, **kwargs).run()
