"""The plan's "Load Testing Targets" table with our figures, and the ratios behind its claims.

The "Before" column comes from the latest run on a database *before* Phase 1 (the old
code on the old schema); the phase columns from the latest run *after* Phase 1 on the same
data (Phases 2-4 are code, so one run measures them all). Without a baseline run, "Before"
falls back to the old code measured on the Phase 1 schema, marked with *.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dbopt.workload.registry import CACHE_CLAIMS, CLAIMS, COLUMNS, METRICS, MetricSpec
from dbopt.workload.state import State, merge


@dataclass
class Cell:
    pattern: str
    figures: dict[str, Any]
    run_id: str
    fallback: bool = False  # old code measured on the Phase 1 schema

    @property
    def p50(self) -> float | None:
        return self.figures.get("p50_ms")

    @property
    def p95(self) -> float | None:
        return self.figures.get("p95_ms")


@dataclass
class Report:
    rows: dict[str, list[Cell | None]] = field(default_factory=dict)
    baseline: dict[str, dict[str, Any]] = field(default_factory=dict)  # system -> run
    after: dict[str, dict[str, Any]] = field(default_factory=dict)
    equivalence: dict[str, dict[str, Any]] = field(default_factory=dict)
    hot: dict[str, Any] = field(default_factory=dict)
    after_runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # metric -> run after Phase 1


def _dataset_key(state: State, system: str) -> tuple:
    d = state.dataset
    if system == "postgres":
        return (d.get("postgres"), d.get("conversations"), d.get("posts"))
    return (d.get("clickhouse"),)


def build(runs: list[dict[str, Any]]) -> Report:
    report = Report()
    if not runs:
        return report
    states = [(r, merge(r.get("states", []))) for r in runs]
    current = states[-1][1]

    def latest(spec: MetricSpec, applied: bool) -> dict[str, Any] | None:
        want = _dataset_key(current, spec.system)
        for run, state in reversed(states):
            if spec.key not in run["metrics"] or _dataset_key(state, spec.system) != want:
                continue
            if state.applied(spec.system) == applied:
                return run
        return None

    for spec in METRICS.values():
        base, after = latest(spec, False), latest(spec, True)
        cells: list[Cell | None] = []
        for i, pattern in enumerate(spec.patterns):
            cell = None
            source = base if i == 0 else after
            figures = (source or {}).get("metrics", {}).get(spec.key, {}).get("patterns", {}).get(pattern or "")
            if pattern and figures and figures.get("requests"):
                cell = Cell(pattern, figures, source["run_id"])
            elif i == 0 and pattern and after:
                figures = after["metrics"][spec.key]["patterns"].get(pattern)
                if figures and figures.get("requests"):
                    cell = Cell(pattern, figures, after["run_id"], fallback=True)
            cells.append(cell)
        report.rows[spec.key] = cells
        if base:
            report.baseline.setdefault(spec.system, base)
        if after:
            report.after_runs[spec.key] = after
            report.after.setdefault(spec.system, after)
            eq = after["metrics"][spec.key].get("equivalence")
            if eq:
                report.equivalence[spec.key] = eq
    hot = report.rows.get("hot_reads") or []
    if len(hot) == 5 and hot[3] and hot[4]:
        report.hot = {"uncached": hot[3].figures, "cached": hot[4].figures}
    return report


def ratio(old: float | None, new: float | None) -> float | None:
    if not old or not new or math.isnan(old) or math.isnan(new):
        return None
    return old / new


def verdict(value: float | None, low: float, high: float) -> str:
    if value is None:
        return "not measured"
    if value < low:
        return "**short**"
    return "met" if value <= high else "met (beyond the range)"


def claims(report: Report) -> list[dict[str, Any]]:
    out = []
    for c in CLAIMS:
        cells = report.rows.get(c.metric) or [None] * 5
        old, new = cells[c.old], cells[c.new]
        if c.new_pattern:
            run = report.after_runs.get(c.metric)
            figures = run["metrics"][c.metric]["patterns"].get(c.new_pattern) if run else None
            new = Cell(c.new_pattern, figures, run["run_id"]) if figures and figures.get("requests") else None
        r = ratio(old.p50 if old else None, new.p50 if new else None)
        out.append({
            "plan": c.section, "change": c.what, "plan says": c.plan,
            "measured (p50 ms)": f"{_ms(old.p50 if old else None)}{'*' if old and old.fallback else ''} -> "
                                 f"{_ms(new.p50 if new else None)}",
            "measured": f"{r:,.1f}x" if r else "-",
            "verdict": verdict(r, c.low, c.high),
        })
    if report.hot:
        un, ca = report.hot["uncached"], report.hot["cached"]
        r = ratio(un.get("p50_ms"), ca.get("p50_ms"))
        section, what, says, low, high = CACHE_CLAIMS[0]
        out.append({"plan": section, "change": what, "plan says": says,
                    "measured (p50 ms)": f"{_ms(un.get('p50_ms'))} -> {_ms(ca.get('p50_ms'))} "
                                         f"(hit rate {ca.get('hit_rate', 0):.0%})",
                    "measured": f"{r:,.1f}x" if r else "-", "verdict": verdict(r, low, high)})
        reduction = load_reduction(un, ca)
        section, what, says, low, high = CACHE_CLAIMS[1]
        out.append({"plan": section, "change": what, "plan says": says,
                    "measured (p50 ms)": f"{_pct(1 - (ca.get('db_fraction') or 0))} of reads served by Redis",
                    "measured": f"{reduction:.0%} fewer database reads" if reduction is not None else "-",
                    "verdict": verdict(reduction, low, high)})
    return out


def load_reduction(uncached: dict[str, Any], cached: dict[str, Any]) -> float | None:
    """1 - database reads with the cache / database reads without it (same request stream)."""
    a = (uncached.get("cache") or {}).get("misses")
    b = (cached.get("cache") or {}).get("misses")
    return 1 - b / a if a else None


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _pct(value: float) -> str:
    return f"{value:.0%}"


def table_rows(report: Report) -> list[dict[str, Any]]:
    """One row per metric: our p95 in each column, the plan's figure in brackets."""
    out = []
    for key, cells in report.rows.items():
        spec = METRICS[key]
        if not any(cells):
            continue
        row = {"Metric": spec.title}
        for i, col in enumerate(COLUMNS):
            cell = cells[i]
            target = f" ({spec.targets[i]})" if spec.targets else ""
            if cell is None:
                row[col] = f"-{target}" if spec.patterns[i] else "n/a"
            else:
                row[col] = f"{_ms(cell.p95)}{'*' if cell.fallback else ''}{target}"
        out.append(row)
    return out


def chart(report: Report, width: int = 36) -> str:
    """p95 per phase as bars on a log scale (0.1 ms to the slowest figure)."""
    values = [c.p95 for cells in report.rows.values() for c in cells if c and c.p95]
    if not values:
        return ""
    top = math.log10(max(values) / 0.1)
    lines = []
    for key, cells in report.rows.items():
        if not any(cells):
            continue
        lines.append(METRICS[key].title)
        for col, cell in zip(COLUMNS, cells, strict=True):
            if cell and cell.p95:
                n = max(1, round(width * math.log10(max(cell.p95, 0.1) / 0.1) / top)) if top > 0 else 1
                lines.append(f"  {col:<8} {'#' * n:<{width}} {_ms(cell.p95)} ms")
    return "\n".join(lines)


def numbers(report: Report) -> list[dict[str, Any]]:
    """Every figure of the table as numbers (for the Dagster table metadata)."""
    out = []
    for key, cells in report.rows.items():
        for col, cell in zip(COLUMNS, cells, strict=True):
            if cell:
                f = cell.figures
                out.append({"metric": key, "column": col, "pattern": cell.pattern, "p50_ms": f.get("p50_ms"),
                            "p95_ms": f.get("p95_ms"), "p99_ms": f.get("p99_ms"), "qps": f.get("qps"),
                            "requests": f.get("requests"), "run": cell.run_id[:8]})
    return out


def md(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_none_"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")).replace("|", "/") for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _run_line(label: str, run: dict[str, Any] | None) -> str:
    if not run:
        return f"- {label}: no run yet"
    state = merge(run.get("states", []))
    return f"- {label}: run {run['run_id'][:8]} at {run['started_at'][:16].replace('T', ' ')} UTC ({state.label()})"


def markdown(report: Report) -> str:
    """The report printed by `make demo` and written to the data folder."""
    if not report.rows:
        return "No workload benchmark has run yet: run the job workload_benchmark."
    parts = [
        "### The plan's Load Testing Targets, measured (p95 ms; the plan's figure in brackets)",
        "",
        md(table_rows(report)),
        "",
    ]
    if any(c and c.fallback for cells in report.rows.values() for c in cells):
        parts += ["\\* no run on a database before Phase 1 with this data: the old code measured on the Phase 1 "
                  "schema (its indexes help it).", ""]
    for system, name in (("postgres", "PostgreSQL"), ("clickhouse", "ClickHouse")):
        parts.append(_run_line(f"{name} before Phase 1", report.baseline.get(system)))
        parts.append(_run_line(f"{name} after Phase 1", report.after.get(system)))
    parts += ["", "### The plan's claims (medians, old code / new code)", "", md(claims(report)), ""]
    if report.equivalence:
        rows = [{"metric": METRICS[k].title, "compared": e.get("compared"), "different answers": e.get("mismatch_count"),
                 "explained differences": e.get("explained_count"), "passed": "yes" if e.get("passed") else "**NO**"}
                for k, e in report.equivalence.items()]
        parts += ["### Same answers (new code against old code, on a sample)", "", md(rows), ""]
    picture = chart(report)
    if picture:
        parts += ["### p95 by phase (log scale)", "", "```", picture, "```", ""]
    return "\n".join(parts).rstrip() + "\n"
