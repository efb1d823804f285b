"""The feed's rollups: `post_metrics_1h` and `user_author_90d`, fed by materialized views.

Each rollup is a SummingMergeTree table, a Null table that collects normalized rows,
one view per CDC table writing into it, and the contract's `<rollup>_mv` that sums
them into the table. Building one, without POPULATE (which loses rows inserted while
it runs) and without any cut-off instant (which loses late events, and events stamped
ahead of a clock):

1. create the tables, `<rollup>_mv` and the per-table views, **open**: from then on
   every insert into a CDC table is counted by the views, whatever its event_ts;
2. backfill: per month, add what the CDC tables say minus what the rollup holds (at
   first, the history inserted before the views existed);
3. reconcile until nothing real differs: per month the difference is observed, every
   INSERT running meanwhile is waited for, and the difference observed again; only what
   was seen twice, the same, is added. An INSERT whose CDC row is visible but whose
   view row is not yet looks like a difference once, never twice.

Materializing a finished rollup again runs step 3 only (`reconcile`): it repairs what
the views cannot see, e.g. a like that arrived before its post's CDC row (the view finds
no author for it then). `compare_sample` recomputes a sample for the asset checks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse import catalog, instants, swap
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl, ident
from dbopt.errors import DboptError

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
    expected: str | None = None  # wraps the sources' rows into the table's (user_author_90d: the author)
    lookups: tuple[str, ...] = ()  # tables the view reads besides its source

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every table whose inserts change what the rollup should hold."""
        return (*self.sources, *self.lookups)

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
    expected=f"{DIR}/044_with_authors.fragment.sql",
    lookups=("posts_cdc",),
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
    views_at: datetime
    action: str = "built"
    months: int = 0
    backfilled_rows: int = 0
    corrected_rows: int = 0
    unconfirmed_rows: int = 0
    passes: int = 0
    rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rollup": self.rollup,
            "action": self.action,
            "views_created_at": _literal(self.views_at),
            "months": self.months,
            "backfilled_rows": self.backfilled_rows,
            "corrected_rows": self.corrected_rows,
            "unconfirmed_rows": self.unconfirmed_rows,
            "reconcile_passes": self.passes,
            "rollup_rows": self.rows,
            "seconds": round(self.seconds, 3),
        }


Hook = Callable[[str], None]


class Reconciler:
    """Makes a rollup equal to a recomputation from the CDC tables (see the module docstring)."""

    def __init__(self, ch: ClickHouse, ddl: Ddl, rollup: Rollup, *, log: Log = lambda _: None,
                 hook: Hook | None = None, inflight_wait_s: float = 60.0, max_passes: int = 4) -> None:
        self.ch, self.ddl, self.rollup, self.log = ch, ddl, rollup, log
        self.hook = hook or (lambda _phase: None)
        self.inflight_wait_s, self.max_passes = inflight_wait_s, max_passes
        self.first, self.confirmed = f"{rollup.name}__diff", f"{rollup.name}__confirmed"

    def _values(self) -> dict[str, str]:
        r = self.rollup
        return {"table": r.name, "key": ", ".join(r.key), "bucket": r.bucket, "measures": ", ".join(r.measures),
                "sums": ", ".join(f"sum({m}) AS {m}" for m in r.measures)}

    def diff(self) -> str:
        """The difference query of the months in {months}, from {since}."""
        r = self.rollup
        where = _where("where_months")
        events = "\nUNION ALL\n".join(r.select(s, where) for s in r.sources)
        expected = sqlfiles.load(r.expected, {"events": events}) if r.expected else events
        return sqlfiles.load(f"{DIR}/045_diff.fragment.sql", {
            **self._values(), "expected": expected,
            "deltas": ", ".join(f"e.{m} - s.{m} AS {m}" for m in r.measures),
            "differs": " OR ".join(f"e.{m} != s.{m}" for m in r.measures),
        })

    def months(self, since: datetime) -> list[int]:
        """Months with events in the sources or rows in the rollup, from `since` on (future months too)."""
        found: set[int] = set(_months(self.ch, self.rollup, since))
        found |= {int(p["partition_id"]) for p in catalog.partitions(self.ch, self.rollup.name)
                  if p["partition_id"].isdigit()}
        low = int(since.strftime("%Y%m"))
        return sorted(m for m in found if m >= low)

    def _insert_diff(self, into: str, months: list[int], since: datetime) -> None:
        sql = sqlfiles.load(f"{DIR}/046_insert_diff.sql", {**self._values(), "into": into, "diff": self.diff()})
        self.ch.command(sql, {"months": months, "since": since})

    def _count(self, table: str) -> int:
        return int(self.ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": table})) or 0)

    def backfill(self, report: BuildReport, since: datetime) -> None:
        """The first pass, straight into the rollup: mostly the history before the views existed."""
        months = self.months(since)
        report.months = len(months)
        started = time.monotonic()
        for done, month in enumerate(months, start=1):
            before = self._count(self.rollup.name)
            self._insert_diff(self.rollup.name, [month], since)
            report.backfilled_rows += self._count(self.rollup.name) - before
            self.log(f"{self.rollup.name}: month {month} backfilled ({done}/{len(months)} months, "
                     f"{report.backfilled_rows:,} rows, {time.monotonic() - started:.1f}s)")
            self.hook("month_backfilled")

    def reconcile(self, report: BuildReport, since: datetime) -> None:
        """Passes of observe, wait, observe again, add what was seen twice; until none is real."""
        work = ", ".join(self.rollup.key)
        try:
            for _ in range(self.max_passes):
                report.passes += 1
                for name in (self.first, self.confirmed):
                    swap.drop(self.ch, self.ddl, name)
                    self.ddl.run(self.ch, f"{DIR}/047_create_work.sql", name=name, table=self.rollup.name, key=work)
                observed = time.monotonic()
                self._insert_diff(self.first, self.months(since), since)
                seen = self._count(self.first)
                if not seen:
                    report.unconfirmed_rows = 0
                    return
                self.hook("observed")
                busy = swap.inserts_still_running(self.ch, self.ddl, self.rollup.inputs, since=observed,
                                                  timeout_s=self.inflight_wait_s)
                if busy:
                    raise DboptError(
                        f"INSERTs into {', '.join(busy)} kept running for {self.inflight_wait_s:.0f}s, so "
                        f"{self.rollup.name}'s differences cannot be confirmed; let them finish and materialize "
                        f"{self.rollup.name} again (its views count every new event meanwhile)."
                    )
                months = [int(r[0]) for r in self.ch.rows(sqlfiles.load(
                    f"{DIR}/049_work_months.sql", {"name": self.first, "bucket": self.rollup.bucket}))]
                self.ch.command(sqlfiles.load(f"{DIR}/048_confirm.sql", {
                    **self._values(), "into": self.confirmed, "first": self.first, "diff": self.diff()}),
                    {"months": months, "since": since})
                confirmed = self._count(self.confirmed)
                report.unconfirmed_rows = seen - confirmed
                if not confirmed:
                    self.log(f"{self.rollup.name}: {seen:,} differences were INSERTs in flight, none seen twice")
                    return
                self.ch.command(sqlfiles.load(f"{DIR}/046_insert_diff.sql", {
                    **self._values(), "into": self.rollup.name,
                    "diff": f"SELECT {work}, {', '.join(self.rollup.measures)} FROM {self.confirmed}"}))
                report.corrected_rows += confirmed
                self.log(f"{self.rollup.name}: {confirmed:,} rows differed from the CDC tables twice; corrected")
            raise DboptError(
                f"{self.rollup.name} still differs from the CDC tables after {self.max_passes} reconcile passes; "
                f"look for a writer inserting into {self.rollup.name} directly, stop it, and materialize it again."
            )
        finally:
            for name in (self.first, self.confirmed):
                swap.drop(self.ch, self.ddl, name)


def history_since(rollup: Rollup, now: datetime) -> datetime:
    """Where a build's backfill starts: everything, or the rollup's window (whole buckets)."""
    if not rollup.history_days:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return (now - timedelta(days=rollup.history_days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def build(ch: ClickHouse, ddl: Ddl, rollup: Rollup, *, log: Log = lambda _: None, hook: Hook | None = None,
          inflight_wait_s: float = 60.0, max_passes: int = 4) -> BuildReport:
    """Create the rollup with open views, backfill it and reconcile it (see the module docstring)."""
    started = time.monotonic()
    drop(ch, ddl, rollup)  # a half-built rollup is rebuilt, never patched
    ddl.run(ch, rollup.create)
    for source in rollup.sources:
        ddl.run(ch, f"{DIR}/030_create_source_view.sql", view=rollup.view(source), events=rollup.events,
                select=rollup.select(source, _where("where_all")))
    report = BuildReport(rollup.name, instants.server_now(ch))
    log(f"{rollup.name}: views created at {_literal(report.views_at)}; every event inserted from now on is counted")
    work = Reconciler(ch, ddl, rollup, log=log, hook=hook, inflight_wait_s=inflight_wait_s, max_passes=max_passes)
    since = history_since(rollup, report.views_at)
    work.backfill(report, since)
    work.reconcile(report, since)
    report.rows = int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": rollup.name})) or 0)
    report.seconds = time.monotonic() - started
    return report


def reconcile(ch: ClickHouse, ddl: Ddl, rollup: Rollup, *, log: Log = lambda _: None, hook: Hook | None = None,
              inflight_wait_s: float = 60.0, max_passes: int = 4) -> BuildReport:
    """A built rollup made equal to the CDC tables over the months they still hold completely."""
    started = time.monotonic()
    report = BuildReport(rollup.name, instants.server_now(ch), action="reconciled")
    work = Reconciler(ch, ddl, rollup, log=log, hook=hook, inflight_wait_s=inflight_wait_s, max_passes=max_passes)
    work.reconcile(report, complete_since(ch, rollup, report.views_at))
    report.rows = int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": rollup.name})) or 0)
    report.seconds = time.monotonic() - started
    return report


def _months(ch: ClickHouse, rollup: Rollup, since: datetime) -> dict[int, int]:
    """Events per month in the sources, from `since` on."""
    found: dict[int, int] = defaultdict(int)
    low = int(since.strftime("%Y%m"))
    for source in rollup.sources:
        stats = ch.rows(
            sqlfiles.load("clickhouse/phase1/cdc_partitioning/020_month_stats.sql",
                          {"table": ident(source), "columns": "event_ts"}),
            {"months": []},
        )
        for month, rows, _checksum in stats:
            if low <= int(month):
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
