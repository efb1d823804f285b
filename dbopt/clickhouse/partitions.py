"""Partition retention for the monthly-partitioned tables, and the plan's partition alert.

Event tables (likes, comments, shares, impressions, post_metrics_1h) lose whole months
past their retention with `DROP PARTITION`, a metadata operation. Tables that carry
current state (posts_cdc, follows_cdc) first carry forward the latest row of every live
key whose latest row is in a month about to go, so a follow made four years ago is
still a follow. A dry run lists what would go and changes nothing.

Retention is in months: a month is dropped when all of it is older than now minus the
retention, so `retention=6` on 2025-07-15 keeps 2025-01 (it holds 2025-01-15 .. 01-31)
and drops 2024-12 and older.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse import catalog, instants, swap
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl, ident
from dbopt.errors import DboptError

DIR = "clickhouse/partition_maintenance"
MAX_CLOCK_SKEW = timedelta(minutes=5)  # how far `now` may be ahead of the server's clock
ALERT_PARTITIONS = 36  # the plan: "ClickHouse partition count > 36 (need cleanup)"

RETENTION_DEFAULTS: dict[str, int] = {
    "posts_cdc": 24,
    "follows_cdc": 24,
    "likes_cdc": 24,
    "comments_cdc": 24,
    "shares_cdc": 24,
    "impressions": 6,
    "post_metrics_1h": 24,
}
STATE_TABLES = {
    "posts_cdc": f"{DIR}/020_carry_forward_posts_cdc.fragment.sql",
    "follows_cdc": f"{DIR}/020_carry_forward_follows_cdc.fragment.sql",
}
# Tables whose partitions the alert counts.
WATCHED = ("posts_cdc", "likes_cdc", "comments_cdc", "shares_cdc", "follows_cdc", "impressions",
           "post_metrics_1h", "user_author_90d")
Log = Callable[[str], None]


def boundary(now: datetime, months: int) -> int:
    """The oldest month (YYYYMM) kept with `months` of retention."""
    index = now.year * 12 + (now.month - 1) - months
    return (index // 12) * 100 + index % 12 + 1


def month_start(yyyymm: int) -> datetime:
    return datetime(yyyymm // 100, yyyymm % 100, 1, tzinfo=UTC)


def validate(retention: dict[str, int]) -> None:
    unknown = sorted(set(retention) - set(RETENTION_DEFAULTS))
    if unknown:
        raise DboptError(
            f"partition_cleanup has no retention rule for {', '.join(unknown)}; use only "
            f"{', '.join(RETENTION_DEFAULTS)} in retention_months."
        )
    short = sorted(t for t, m in retention.items() if m < 1)
    if short:
        raise DboptError(f"Retention for {', '.join(short)} must be at least 1 month; fix retention_months.")


@dataclass
class Drop:
    table: str
    partition: str
    rows: int
    bytes: int


@dataclass
class CleanupReport:
    dry_run: bool
    now: datetime
    server_now: datetime | None = None
    drops: list[Drop] = field(default_factory=list)
    carried: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    kept_from: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.drops)

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.drops)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "partitions_dropped": len(self.drops),
            "rows_freed": self.rows,
            "bytes_freed": self.bytes,
            "carried_forward": self.carried,
            "skipped": self.skipped,
            "now": self.now.isoformat(),
        }

    def plan(self, retention: dict[str, int]) -> list[dict[str, Any]]:
        """Per table: what goes (or went) and how many live keys are carried forward."""
        out = []
        for table, months in retention.items():
            drops = [d for d in self.drops if d.table == table]
            out.append({
                "table": table,
                "retention_months": months,
                "kept_from": str(self.kept_from.get(table, "-")),
                "partitions": ", ".join(d.partition for d in drops) or "-",
                "rows": sum(d.rows for d in drops),
                "live_keys_carried": self.carried.get(table, 0),
                "note": self.skipped.get(table, ""),
            })
        return out


def resolve_now(ch: ClickHouse, text: str | None, *, max_skew: timedelta = MAX_CLOCK_SKEW) -> datetime:
    """The instant retention is measured from: `text` (checked), or the server's clock."""
    server = instants.server_now(ch)
    return instants.parse("now", text, now=server, max_ahead=max_skew) if text else server


def cleanup(
    ch: ClickHouse,
    ddl: Ddl,
    retention: dict[str, int],
    *,
    dry_run: bool,
    now: datetime | None = None,
    log: Log = lambda _: None,
    max_skew: timedelta = MAX_CLOCK_SKEW,
    run_id: str = "",
) -> CleanupReport:
    """Drop (or, dry run, list) every partition past its table's retention.

    `now` later than the server's clock (beyond `max_skew`) is refused before anything
    is dropped: measured from the future, every month would be past its retention.
    """
    validate(retention)
    server = instants.server_now(ch)
    now = instants.not_ahead("now", now.astimezone(UTC), now=server, max_ahead=max_skew) if now else server
    report = CleanupReport(dry_run, now, server)
    infos = catalog.tables(ch, list(retention))
    for table, months in retention.items():
        info = infos.get(table)
        if info is None:
            report.skipped[table] = "no such table"
            continue
        if not info.monthly:
            report.skipped[table] = "not partitioned by month yet (run phase1_clickhouse)"
            continue
        keep_from = boundary(report.now, months)
        report.kept_from[table] = keep_from
        expired = [p for p in catalog.partitions(ch, table) if _month(p["partition_id"]) < keep_from]
        if not expired:
            continue
        if table in STATE_TABLES:
            report.carried[table] = _carry_forward(ch, ddl, table, month_start(keep_from), dry_run, run_id)
        for p in expired:
            report.drops.append(Drop(table, p["partition_id"], int(p["part_rows"]), int(p["part_bytes"])))
            if not dry_run:
                ddl.run(ch, f"{DIR}/010_drop_partition.sql", table=ident(table), partition_id=p["partition_id"])
        verb = "would drop" if dry_run else "dropped"
        log(f"{table}: {verb} {len(expired)} partitions before {keep_from} "
            f"({sum(int(p['part_rows']) for p in expired):,} rows)"
            + (f", {report.carried[table]:,} live keys carried forward" if table in report.carried else ""))
    return report


def _month(partition_id: str) -> int:
    if len(partition_id) != 6 or not partition_id.isdigit():
        raise DboptError(
            f"Partition {partition_id!r} is not a YYYYMM month; partition_cleanup only handles tables "
            f"partitioned by toYYYYMM(...), so leave this table out of retention_months."
        )
    return int(partition_id)


def carry_name(table: str, run_id: str) -> str:
    """The carry table of one run: two runs never share one (one could drop what the other filled)."""
    suffix = "".join(c for c in run_id.lower() if c.isalnum())[:12] or "manual"
    return ident(f"dbopt_carry_{table}_{suffix}")


def _carry_forward(ch: ClickHouse, ddl: Ddl, table: str, boundary_ts: datetime, dry_run: bool, run_id: str) -> int:
    select = sqlfiles.read(STATE_TABLES[table])
    params = {"boundary": boundary_ts}
    if dry_run:
        return int(ch.scalar(sqlfiles.load(f"{DIR}/031_carry_forward_count.sql", {"select": select}), params) or 0)
    carry = carry_name(table, run_id)
    swap.drop(ch, ddl, carry)
    swap.create_like(ch, ddl, carry, table)
    ch.command(sqlfiles.load(f"{DIR}/030_carry_forward.sql", {"carry": carry, "select": select}), params)
    rows = int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": carry})) or 0)
    if rows:
        swap.attach_all(ch, table, carry)
    swap.drop(ch, ddl, carry)
    return rows


def partition_counts(ch: ClickHouse, tables: tuple[str, ...] | list[str] = WATCHED) -> dict[str, int]:
    """Active, non-empty partitions per existing table (what the plan's alert counts)."""
    present = catalog.tables(ch, list(tables))
    return {t: len(catalog.partitions(ch, t)) for t in tables if t in present}
