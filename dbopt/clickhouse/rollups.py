"""The feed's rollups: `post_metrics_1h` and `user_author_90d`, fed by materialized views.

Each rollup is a SummingMergeTree table, a Null table that collects normalized rows,
one view per CDC table writing into it, and the contract's `<rollup>_mv` that sums
them into the table. Building one, without POPULATE (which loses rows inserted while
it runs):

1. create the tables and `<rollup>_mv`;
2. create the per-table views with a filter `event_ts >= start`, the start point being
   the moment they are created: from then on every new event is counted once;
3. backfill the history before the start point month by month, oldest first, through
   the same views' SELECTs (one code path for live and historical rows);
4. open the views (`MODIFY QUERY` without the filter) so late events, stamped before the
   start point but arriving now, are counted too.

A run that stopped half-way is rebuilt from scratch (the rollups are derived data); a
finished one is left alone unless `rebuild` is asked for. `compare_sample` recomputes a
sample from the CDC tables for the asset checks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse import catalog
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl, ident

DIR = "clickhouse/phase1/feed_rollups"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Rollup:
    name: str  # the contract's table name
    create: str  # its SQL file; the rollback sits beside it
    sources: tuple[str, ...]  # CDC tables that feed it
    key: tuple[str, ...]  # the table's key columns
    bucket: str  # the time column
    measures: tuple[str, ...]
    history_days: int | None  # how far back the backfill goes (None: everything)
    sample_column: str  # what the check samples: post_id or user_id

    @property
    def mv(self) -> str:
        return f"{self.name}_mv"

    @property
    def events(self) -> str:
        return f"{self.name}_events"

    @property
    def rollback(self) -> str:
        return self.create.replace(".sql", "_rollback.sql")

    def view(self, source: str) -> str:
        return f"{self.name}_from_{source}"

    def objects(self) -> list[str]:
        return [self.name, self.events, self.mv, *(self.view(s) for s in self.sources)]

    def select(self, source: str, where: str) -> str:
        return sqlfiles.load(f"{DIR}/sources/{self.name}_{source}.fragment.sql", {"where": where})


POST_METRICS_1H = Rollup(
    name="post_metrics_1h",
    create=f"{DIR}/010_post_metrics_1h.sql",
    sources=("likes_cdc", "comments_cdc", "shares_cdc", "impressions"),
    key=("post_id", "hour"),
    bucket="hour",
    measures=("likes", "comments", "shares", "impressions"),
    history_days=None,
    sample_column="post_id",
)
USER_AUTHOR_90D = Rollup(
    name="user_author_90d",
    create=f"{DIR}/020_user_author_90d.sql",
    sources=("likes_cdc", "comments_cdc", "shares_cdc"),
    key=("user_id", "author_id", "day"),
    bucket="day",
    measures=("likes", "comments", "shares"),
    history_days=91,
    sample_column="user_id",
)
ROLLUPS = {r.name: r for r in (POST_METRICS_1H, USER_AUTHOR_90D)}


def _where(fragment: str, **values: str) -> str:
    return sqlfiles.load(f"{DIR}/{fragment}.fragment.sql", values).strip()


def _literal(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d}"


def is_built(ch: ClickHouse, rollup: Rollup) -> bool:
    return set(catalog.tables(ch, rollup.objects())) == set(rollup.objects())


def drop(ch: ClickHouse, ddl: Ddl, rollup: Rollup) -> None:
    ddl.run(ch, rollup.rollback)


@dataclass
class BuildReport:
    rollup: str
    cutoff: datetime
    months: int = 0
    source_rows: int = 0
    rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rollup": self.rollup,
            "start_point": _literal(self.cutoff),
            "months_backfilled": self.months,
            "events_in_backfilled_months": self.source_rows,
            "rollup_rows": self.rows,
            "events_per_s": round(self.source_rows / self.seconds) if self.seconds else 0,
        }


def build(ch: ClickHouse, ddl: Ddl, rollup: Rollup, *, log: Log = lambda _: None, grace_s: float = 30.0) -> BuildReport:
    """Create the rollup, its views and its history (see the module docstring)."""
    drop(ch, ddl, rollup)  # a half-built rollup is rebuilt, never patched
    ddl.run(ch, rollup.create)
    cutoff = datetime.now(UTC)
    for source in rollup.sources:
        where = _where("where_live", cutoff=_literal(cutoff))
        ddl.run(ch, f"{DIR}/030_create_source_view.sql", view=rollup.view(source), events=rollup.events,
                select=rollup.select(source, where))
    log(f"{rollup.name}: views created; counting events from {_literal(cutoff)} on")
    since = cutoff - timedelta(days=rollup.history_days) if rollup.history_days else datetime(1970, 1, 1, tzinfo=UTC)
    per_month = _months(ch, rollup, since, cutoff)
    months = list(per_month)
    report = BuildReport(rollup.name, cutoff, months=len(months))
    started = time.monotonic()
    backfill_sql = {
        s: sqlfiles.load(f"{DIR}/040_backfill.sql", {"events": rollup.events,
                                                       "select": rollup.select(s, _where("where_backfill"))})
        for s in rollup.sources
    }
    for done, month in enumerate(months, start=1):
        if month == months[-1]:
            # Events stamped just before the start point may still be in flight.
            time.sleep(max(0.0, grace_s - (datetime.now(UTC) - cutoff).total_seconds()))
        params = {"month": month, "since": since, "cutoff": cutoff}
        for source in rollup.sources:
            ch.command(backfill_sql[source], params)
        report.source_rows += per_month[month]
        report.seconds = time.monotonic() - started
        log(f"{rollup.name}: month {month} backfilled ({done}/{len(months)} months, {report.source_rows:,} events, "
            f"{report.source_rows / max(report.seconds, 1e-9):,.0f} events/s)")
    for source in rollup.sources:
        ddl.run(ch, f"{DIR}/050_open_source_view.sql", view=rollup.view(source),
                select=rollup.select(source, _where("where_all")))
    report.rows = int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": rollup.name})) or 0)
    return report


def _months(ch: ClickHouse, rollup: Rollup, since: datetime, cutoff: datetime) -> dict[int, int]:
    """Events per month in the sources, for the months the backfill covers."""
    found: dict[int, int] = defaultdict(int)
    low, high = int(since.strftime("%Y%m")), int(cutoff.strftime("%Y%m"))
    for source in rollup.sources:
        stats = ch.rows(
            sqlfiles.load("clickhouse/phase1/cdc_partitioning/020_month_stats.sql",
                          {"table": ident(source), "columns": "event_ts"}),
            {"months": []},
        )
        for month, rows, _checksum in stats:
            if low <= int(month) <= high:
                found[int(month)] += int(rows)
    return dict(sorted(found.items()))


# --- the check: a sample recomputed from the CDC tables ----------------------------------------


def complete_since(ch: ClickHouse, rollup: Rollup, now: datetime | None = None) -> datetime:
    """From when the CDC tables still hold every event (retention drops old months), and,
    for user_author_90d, within the 90 days the table keeps."""
    oldest = [ch.scalar(sqlfiles.load(f"{DIR}/070_oldest_event.sql", {"table": ident(s)})) for s in rollup.sources]
    since = max((o for o in oldest if o is not None), default=datetime(1970, 1, 1, tzinfo=UTC))
    if rollup.history_days:
        since = max(since, (now or datetime.now(UTC)) - timedelta(days=rollup.history_days - 2))
    # The first bucket may hold events from before `since` that were dropped: start after it.
    step = timedelta(hours=1) if rollup.bucket == "hour" else timedelta(days=1)
    floor = since.replace(minute=0, second=0, microsecond=0)
    if rollup.bucket == "day":
        floor = floor.replace(hour=0)
    return floor + step


def sample_ids(ch: ClickHouse, rollup: Rollup, since: datetime, n: int) -> list[str]:
    sql = sqlfiles.load(f"{DIR}/080_sample_ids.sql", {"table": rollup.sources[0], "id_column": rollup.sample_column})
    return [r[0] for r in ch.rows(sql, {"since": since, "n": n})]


def recompute(ch: ClickHouse, rollup: Rollup, ids: list[str], since: datetime) -> dict[tuple, tuple]:
    """The rollup's rows for the sampled ids, computed from the CDC tables (zero rows left out)."""
    where = _where("where_sample", id_column=rollup.sample_column)
    params = {"ids": ids, "since": since}
    rows: list[dict] = []
    for source in rollup.sources:
        rows.extend(ch.dicts(rollup.select(source, where), params))
    authors: dict[str, str] = {}
    if "author_id" in rollup.key:
        posts = sorted({str(r["post_id"]) for r in rows})
        authors = dict(ch.rows(sqlfiles.read(f"{DIR}/060_post_authors.sql"), {"ids": posts}))
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(rollup.measures))
    for r in rows:
        r = dict(r, post_id=str(r["post_id"]), user_id=str(r.get("user_id", "")))
        if "author_id" in rollup.key:
            if r["post_id"] not in authors:
                continue
            r["author_id"] = authors[r["post_id"]]
        key = tuple(_norm(r[k]) for k in rollup.key)
        for i, m in enumerate(rollup.measures):
            sums[key][i] += int(r[m])
    return {k: tuple(v) for k, v in sums.items() if any(v)}


def stored(ch: ClickHouse, rollup: Rollup, ids: list[str], since: datetime) -> dict[tuple, tuple]:
    """The rollup's rows for the sampled ids as the table holds them (summed, zero rows left out)."""
    sql = sqlfiles.load(f"{DIR}/090_read_sample.sql", {
        "table": rollup.name, "key": ", ".join(rollup.key), "id_column": rollup.sample_column,
        "bucket": rollup.bucket, "sums": ", ".join(f"sum({m}) AS {m}" for m in rollup.measures),
    })
    out = {}
    for r in ch.dicts(sql, {"ids": ids, "since": since}):
        values = tuple(int(r[m]) for m in rollup.measures)
        if any(values):
            out[tuple(_norm(r[k]) for k in rollup.key)] = values
    return out


def _norm(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@dataclass
class Comparison:
    rollup: str
    ids: int
    rows: int
    since: datetime
    mismatches: list[dict]


def compare_sample(ch: ClickHouse, rollup: Rollup, n: int = 50) -> Comparison:
    since = complete_since(ch, rollup)
    ids = sample_ids(ch, rollup, since, n)
    want = recompute(ch, rollup, ids, since)
    have = stored(ch, rollup, ids, since)
    bad = []
    for key in sorted(set(want) | set(have)):
        if want.get(key) != have.get(key):
            row = dict(zip(rollup.key, key, strict=True))
            row.update({"expected": list(want.get(key, ())), "found": list(have.get(key, ()))})
            bad.append(row)
    return Comparison(rollup.name, len(ids), len(want), since, bad)
