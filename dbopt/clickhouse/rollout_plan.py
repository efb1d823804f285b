"""The plan of phase1_clickhouse before it runs, and its receipt after: per step what it
changes, the rows it copies or reads, a predicted duration as a range, the disk it keeps.

Durations are calibrated on this server, not taken from constants: one whole month of each
CDC table (the month nearest its average month or `sample_rows` rows, whichever is fewer;
never more than twice `sample_rows`) is copied with
the repartition's own statement (`030_copy_month.sql`: `INSERT ... SELECT ... WHERE
toYYYYMM(event_ts) = month`, which reads the whole table's event_ts to find the month) into a
monthly partitioned MergeTree in a scratch database that is dropped right after, timed. A
copy of the table's first rows (`LIMIT`) ran 2.3x faster than the repartition's months on a
quiet machine (it skips the month filter's scan), so it is used only for a table whose every
month is more than twice `sample_rows`. The rows
of all samples over their total time is this server's copy rate now (one rate: per-table
rates from small samples are noisy). Each step is then the rows it works through times its
copy-equivalent passes (PASSES: the month copies, checks, catch-up and reconcile of the
repartition, the backfill and reconcile reads of the rollups, the candidates' joins, in
units of one copy of the row), over that rate. The passes were fitted once on `medium` on
this machine (docs/clickhouse.md, `## clickhouse_plan`); the rate is measured every time.

Nothing of the application's database is written: the sample goes to `dbopt_plan_scratch_*`,
which is dropped (also when the sample fails).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dbopt import rollout_plan_common, sqlfiles
from dbopt.clickhouse import catalog, rollups
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import ident, ident_list
from dbopt.clickhouse.preflight import TableFigures, human_bytes, table_figures
from dbopt.clickhouse.repartition import CDC_TABLES
from dbopt.clickhouse.repartition import DIR as REPARTITION_DIR
from dbopt.errors import DboptError
from dbopt.rollout_plan_common import PlanTotals

DIR = "clickhouse/clickhouse_plan"
INTERACTIONS = ("likes_cdc", "comments_cdc", "shares_cdc", "impressions")
RANGE = (0.7, 1.4)  # the predicted range around the point estimate

# The work of each step per row it goes through, in copies of that row (fitted on `medium`).
PASSES = {"cdc_partitioning": 1.1, "post_metrics_1h": 2.25, "user_author_90d": 1.9, "feed_candidates": 3.5}
# What each step keeps on disk, as a share of the interaction tables' bytes (measured on `medium`:
# post_metrics_1h 0.16, user_author_90d 0.07, the three candidate tables 0.45 with the default scoring).
DERIVED_SHARE = {"post_metrics_1h": 0.16, "user_author_90d": 0.07, "feed_candidates": 0.45}
LEDGER_STEP = {name: f"clickhouse.{name}" for name in PASSES}
SAMPLE_ROWS = 500_000  # about this many rows of each table (one month) copied to time this server


@dataclass(frozen=True)
class Calibration:
    """Measured here: the copy rate over all samples, and each table's own (shown, not used)."""

    rows_per_s: float
    copy_rows_per_s: dict[str, float]
    sample_rows: dict[str, int]
    seconds: float  # what measuring took


@dataclass
class StepPlan:
    step: str
    changes: str
    rows: int
    seconds: float
    low_s: float
    high_s: float
    disk_bytes: int
    basis: str

    def row(self) -> dict[str, Any]:
        return {"step": self.step, "changes": self.changes, "rows": self.rows,
                "predicted": f"{self.low_s:,.1f}-{self.high_s:,.1f} s", "point_s": round(self.seconds, 1),
                "disk": human_bytes(self.disk_bytes), "basis": self.basis}


@dataclass
class Plan(PlanTotals):
    steps: list[StepPlan]
    calibration: Calibration


def calibrate(ch: ClickHouse, figures: dict[str, TableFigures], sample_rows: int = SAMPLE_ROWS) -> Calibration:
    """Time a copy of a sample of each table into a scratch database (dropped after)."""
    if sample_rows < 1000:
        raise DboptError(f"sample_rows is {sample_rows}; set 1000 or more so the sample measures rows, not latency.")
    started = time.perf_counter()
    scratch = ident(f"dbopt_plan_scratch_{uuid.uuid4().hex[:8]}")
    copy_rate: dict[str, float] = {}
    sampled: dict[str, int] = {}
    copy_seconds = 0.0
    try:
        for name, fig in figures.items():
            n = min(fig.rows, sample_rows)
            if n == 0:
                continue
            info = catalog.table(ch, name)
            assert info is not None
            values = {"scratch": scratch, "source": ident(name), "sorting_key": info.sorting_key or ""}
            ch.command(sqlfiles.load(f"{DIR}/040_drop_scratch.sql", values))
            ch.script(sqlfiles.load(f"{DIR}/010_create_scratch.sql", values))
            month, month_rows = _sample_month(ch, name, sample_rows)
            t0 = time.perf_counter()
            if month is None:  # every month is too big to copy here: the table's first rows
                ch.command(sqlfiles.load(f"{DIR}/020_copy_sample.sql", values), {"rows": n})
            else:
                columns = ident_list(catalog.columns(ch, name))
                ch.command(sqlfiles.load(f"{REPARTITION_DIR}/030_copy_month.sql", {
                    "target": f"{scratch}.copy", "source": ident(name), "columns": columns}), {"month": month})
                n = month_rows
            took = max(time.perf_counter() - t0, 1e-4)
            copy_seconds += took
            copy_rate[name] = n / took
            sampled[name] = n
    finally:
        ch.command(sqlfiles.load(f"{DIR}/040_drop_scratch.sql", {"scratch": scratch}))
    rate = sum(sampled.values()) / copy_seconds if copy_seconds else 0.0
    return Calibration(rate, copy_rate, sampled, time.perf_counter() - started)


def _sample_month(ch: ClickHouse, table: str, sample_rows: int) -> tuple[int | None, int]:
    """(month, rows) of the month to copy: nearest the table's average month, capped at
    sample_rows, among months of at most twice sample_rows; (None, 0) when there is none."""
    months = [(int(r["month"]), int(r["rows"])) for r in ch.dicts(
        sqlfiles.load(f"{DIR}/015_month_rows.sql", {"table": ident(table)}))]
    fitting = [(m, n) for m, n in months if 0 < n <= 2 * sample_rows]
    if not fitting:
        return None, 0
    target = min(sum(n for _, n in months) / len(months), sample_rows)
    return min(fitting, key=lambda mn: (abs(mn[1] - target), mn[0]))


def _recent_rows(ch: ClickHouse, table: str, days: int) -> int:
    return int(ch.scalar(sqlfiles.load(f"{DIR}/050_recent_rows.sql", {"table": ident(table)}), {"days": days}))


def _step(step: str, changes: str, rows_by_table: dict[str, int], cal: Calibration, disk: int,
          basis: str) -> StepPlan:
    rows = sum(rows_by_table.values())
    point = rows * PASSES[step] / cal.rows_per_s if cal.rows_per_s else 0.0
    return StepPlan(step, changes, rows, point, point * RANGE[0], point * RANGE[1], disk, basis)


def compute(ch: ClickHouse, *, sample_rows: int = SAMPLE_ROWS, figures: dict[str, TableFigures] | None = None) -> Plan:
    """The plan for phase1_clickhouse on this database, calibrated here."""
    figures = figures if figures is not None else table_figures(ch)
    missing = [t for t in CDC_TABLES if t not in figures]
    if missing:
        raise DboptError(f"{', '.join(missing)} missing from the database; seed the baseline (`dbopt seed`) or point "
                         f"CLICKHOUSE_URL at the database that holds the CDC tables.")
    cal = calibrate(ch, figures, sample_rows)
    todo = {n: f for n, f in figures.items() if not f.partitioned}
    interactions_bytes = sum(figures[t].bytes for t in INTERACTIONS)
    steps = [_step(
        "cdc_partitioning",
        f"copies {len(todo)} CDC tables month by month into partitioned tables, swaps them in, keeps the old ones "
        f"as backups" if todo else "nothing: every CDC table is already partitioned by month",
        {n: f.rows for n, f in todo.items()}, cal, sum(f.copy_bytes for f in todo.values()),
        f"{PASSES['cdc_partitioning']} copies per row: month copies, checks, catch-up, verify, reconcile")]
    steps.append(_step(
        "post_metrics_1h", "creates post_metrics_1h, its views, backfills all history, reconciles",
        {t: figures[t].rows for t in rollups.POST_METRICS_1H.sources}, cal,
        int(DERIVED_SHARE["post_metrics_1h"] * interactions_bytes),
        f"{PASSES['post_metrics_1h']} copies per interaction row: backfill month by month, reconcile"))
    recent = {t: _recent_rows(ch, t, rollups.USER_AUTHOR_90D.history_days or 91)
              for t in rollups.USER_AUTHOR_90D.sources}
    recent["posts_cdc"] = figures["posts_cdc"].rows  # the author lookup
    steps.append(_step(
        "user_author_90d", "creates user_author_90d, its views, backfills the last 91 days, reconciles",
        recent, cal, int(DERIVED_SHARE["user_author_90d"] * interactions_bytes),
        f"{PASSES['user_author_90d']} copies per row of 91 days of likes, comments, shares, and the posts"))
    window = {t: _recent_rows(ch, t, 90) for t in ("likes_cdc", "comments_cdc", "shares_cdc", "impressions")}
    window["posts_cdc"] = figures["posts_cdc"].rows
    window["follows_cdc"] = figures["follows_cdc"].rows
    steps.append(_step(
        "feed_candidates", "builds the three candidate tables in staging tables and swaps them in",
        window, cal, int(DERIVED_SHARE["feed_candidates"] * interactions_bytes),
        f"{PASSES['feed_candidates']} copies per row of posts, follows and 90 days of interactions"))
    return Plan(steps, cal)


def format_plan(plan: Plan, title: str = "ClickHouse plan (phase1_clickhouse)") -> list[str]:
    """The lines `dbopt plan` prints."""
    lines = [f"{title}: {plan.low_s:,.0f}-{plan.high_s:,.0f} s in all, {human_bytes(plan.disk_bytes)} of disk kept"]
    for s in plan.steps:
        lines.append(f"  {s.step}: {s.low_s:,.1f}-{s.high_s:,.1f} s, {s.rows:,} rows, {human_bytes(s.disk_bytes)}: "
                     f"{s.changes}")
    cal = plan.calibration
    lines.append(f"  calibrated here in {cal.seconds:.1f} s: a sample of {sum(cal.sample_rows.values()):,} rows copied "
                 f"at {cal.rows_per_s:,.0f} rows/s into a scratch database, dropped after")
    return lines


# --- the receipt ---------------------------------------------------------------------------


def actuals(ch: ClickHouse, run_id: str) -> dict[str, float]:
    """Seconds each step of a run took, from the ledger (steps that finished)."""
    if catalog.table(ch, "dbopt_ledger") is None:
        return {}
    out = {}
    for r in ch.dicts(sqlfiles.read(f"{DIR}/060_ledger_run.sql"), {"run_id": run_id}):
        if r["outcome"] == "succeeded" and r["finished_at"] and r["started_at"]:
            out[r["step"]] = (r["finished_at"] - r["started_at"]).total_seconds()
    return out


def receipt(predicted: Sequence[dict[str, Any]], actual: dict[str, float]) -> list[dict[str, Any]]:
    """Predicted against actual per step, and a total row. `predicted`: the plan's step dicts."""
    rows = []
    for s in predicted:
        got = actual.get(LEDGER_STEP.get(s["step"], s["step"]))
        rows.append(_receipt_row(s["step"], s["seconds"], s["low_s"], s["high_s"], got))
    done = [r for r in rows if r["actual_s"] is not None]
    rows.append(_receipt_row("total", sum(s["seconds"] for s in predicted), sum(s["low_s"] for s in predicted),
                             sum(s["high_s"] for s in predicted),
                             sum(r["actual_s"] for r in done) if len(done) == len(rows) else None))
    return rows


def _receipt_row(step: str, point: float, low: float, high: float, actual: float | None) -> dict[str, Any]:
    return rollout_plan_common.receipt_row(step, point, low, high, actual, digits=1, range_thousands=True)


def format_receipt(rows: Sequence[dict[str, Any]]) -> list[str]:
    return rollout_plan_common.format_receipt(rows, digits=1)


def dumps(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), default=str)
