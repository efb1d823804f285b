"""Query performance from pg_stat_statements, over the last interval, with an estimated p99.

pg_stat_statements keeps, per statement, the number of calls and the total, mean,
standard deviation, min and max of its execution time since the statistics were reset:
no histogram, so no exact percentile. Two things follow.

**The interval.** Calls, total and the sum of squares (n * (stddev^2 + mean^2)) add up, so
the difference between this sample and the previous one gives each statement's calls,
mean and standard deviation *in the interval*. Min and max cannot be differenced: the
cumulative max stays an upper bound (and the cumulative min a lower one). Without a usable
previous sample (first run, statistics reset) the window is "since the last reset".

**The p99.** Each statement's times are taken as normal with its mean and standard
deviation, clipped to [min, max]; the statements are mixed in proportion to their calls;
the p99 is the time that 1% of the mixture's calls exceed, found by bisection. It never
exceeds the slowest call (max). Latencies are skewed to the right, so within one statement
the normal model errs low; across statements (the usual cause of a high p99: a few slow
statements among many fast ones) the mixture is what matters, and that it gets right.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from dbopt.monitoring import rates
from dbopt.monitoring.samples import SampleStore
from dbopt.postgres.sqlrun import query_file
from dbopt.secrets import scrub

DIR = "postgres/monitoring"
Z99 = 2.3263478740408408  # the standard normal's 99th percentile
METHOD = (
    "Estimated from pg_stat_statements (calls, mean, stddev, min, max per statement; no histogram): each "
    "statement's times taken as normal(mean, stddev) clipped to [min, max], mixed by calls; p99 = the time 1% of "
    "the mixture's calls exceed (bisection). Never above the slowest call; skew within one statement makes it err low."
)


@dataclass(frozen=True)
class Statement:
    key: str
    calls: float
    total_ms: float
    sumsq: float  # sum of squared execution times, ms^2
    min_ms: float
    max_ms: float
    query: str = ""

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    @property
    def stddev_ms(self) -> float:
        if not self.calls:
            return 0.0
        return math.sqrt(max(0.0, self.sumsq / self.calls - self.mean_ms**2))

    @property
    def p99_ms(self) -> float:
        """This statement's own p99 under the normal model, capped by its max."""
        if self.calls <= 1:
            return self.mean_ms
        return min(self.max_ms, self.mean_ms + Z99 * self.stddev_ms)

    def counters(self) -> dict[str, float]:
        return {"calls": self.calls, "total_ms": self.total_ms, "sumsq": self.sumsq}


def from_rows(rows: Iterable[dict[str, Any]]) -> list[Statement]:
    """Statements from pg_stat_statements rows; rows of one statement (track = all) are merged."""
    merged: dict[str, Statement] = {}
    for r in rows:
        n = float(r["calls"])
        mean = float(r["mean_exec_time"])
        sd = float(r["stddev_exec_time"])
        s = Statement(
            key=f"{r['userid']}:{r['queryid']}",
            calls=n,
            total_ms=float(r["total_exec_time"]),
            sumsq=n * (sd * sd + mean * mean),
            min_ms=float(r["min_exec_time"]),
            max_ms=float(r["max_exec_time"]),
            query=safe_query_text(r.get("query") or ""),
        )
        old = merged.get(s.key)
        if old is not None:
            s = Statement(s.key, old.calls + s.calls, old.total_ms + s.total_ms, old.sumsq + s.sumsq,
                          min(old.min_ms, s.min_ms), max(old.max_ms, s.max_ms), old.query or s.query)
        merged[s.key] = s
    return list(merged.values())


def in_interval(previous: dict[str, dict[str, float]], current: list[Statement]) -> list[Statement]:
    """Each statement's calls and times since the previous sample (whole, if it is new or was reset)."""
    out = []
    for s in current:
        changes = rates.delta(previous.get(s.key), s.counters(), ("calls", "total_ms", "sumsq"))
        if changes is None:
            out.append(s)
        elif changes["calls"] > 0:
            out.append(Statement(s.key, changes["calls"], changes["total_ms"], changes["sumsq"], s.min_ms, s.max_ms,
                                 s.query))
    return out


def _normal_tail(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def tail_calls(statements: list[Statement], x: float) -> float:
    """Expected number of calls slower than x ms under the clipped-normal mixture."""
    total = 0.0
    for s in statements:
        if x >= s.max_ms:
            continue
        sd = s.stddev_ms
        if sd <= 1e-9 or s.calls <= 1:
            total += s.calls if x < s.mean_ms else 0.0
        elif x < s.min_ms:
            total += s.calls
        else:
            total += s.calls * _normal_tail((x - s.mean_ms) / sd)
    return total


def estimate_quantile(statements: list[Statement], q: float = 0.99) -> float | None:
    """The time that a fraction 1 - q of all calls exceed; None without calls."""
    calls = sum(s.calls for s in statements)
    if calls <= 0:
        return None
    budget = (1 - q) * calls
    lo, hi = 0.0, max(s.max_ms for s in statements)
    if tail_calls(statements, lo) <= budget:
        return lo
    for _ in range(80):
        mid = (lo + hi) / 2
        if tail_calls(statements, mid) > budget:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-3:
            break
    return hi


_SECRET_WORDS = re.compile(r"password|secret|token", re.I)


def safe_query_text(text: str) -> str:
    """Statement text fit for metadata: normalized statements carry $n, not values, but
    utility statements (ALTER ROLE ... PASSWORD) are recorded as written."""
    if _SECRET_WORDS.search(text):
        return "(text hidden: the statement mentions a password or secret)"
    return scrub(" ".join(text.split()))


@dataclass
class LatencyReport:
    available: bool
    reason: str = ""  # why pg_stat_statements cannot be read, in one sentence
    window: str = ""
    interval_s: float | None = None
    stats_reset: str | None = None
    statements: list[Statement] = field(default_factory=list)  # in the window
    plan_top: list[dict[str, Any]] = field(default_factory=list)  # the plan's query, since reset

    @property
    def calls(self) -> int:
        return int(sum(s.calls for s in self.statements))

    @property
    def p99_ms(self) -> float | None:
        return estimate_quantile(self.statements, 0.99)

    @property
    def mean_ms(self) -> float | None:
        calls = sum(s.calls for s in self.statements)
        return sum(s.total_ms for s in self.statements) / calls if calls else None

    @property
    def max_ms(self) -> float | None:
        return max((s.max_ms for s in self.statements), default=None)

    def slowest(self, n: int = 15) -> list[dict[str, Any]]:
        ranked = sorted(self.statements, key=lambda s: (s.p99_ms, s.total_ms), reverse=True)[:n]
        return [
            {"calls": int(s.calls), "mean_ms": round(s.mean_ms, 2), "stddev_ms": round(s.stddev_ms, 2),
             "p99_est_ms": round(s.p99_ms, 2), "max_ms": round(s.max_ms, 2), "total_ms": round(s.total_ms, 1),
             "query": s.query}
            for s in ranked
        ]


def availability(conn: psycopg.Connection) -> tuple[bool, str, bool]:
    """(readable, why not in one sentence, has pg_stat_statements_info)."""
    state = query_file(conn, f"{DIR}/stat_statements_state.sql")[0]
    if not state["library_loaded"]:
        return False, (
            "pg_stat_statements is not loaded by this server, so query latency is not measured; add it to "
            "shared_preload_libraries and restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements."
        ), False
    if not state["extension_created"]:
        return False, (
            "The pg_stat_statements extension is not created in this database, so query latency is not measured; "
            "run CREATE EXTENSION pg_stat_statements in it."
        ), False
    return True, "", bool(state["has_info"])


def measure(conn: psycopg.Connection, store: SampleStore, source: str) -> LatencyReport:
    """Read pg_stat_statements, compare with the previous sample of `source`, save this one."""
    ok, reason, has_info = availability(conn)
    if not ok:
        return LatencyReport(False, reason)
    try:
        reset = query_file(conn, f"{DIR}/stat_statements_reset.sql")[0]["stats_reset"] if has_info else None
        current = from_rows(query_file(conn, f"{DIR}/statements.sql"))
        plan_top = query_file(conn, f"{DIR}/plan_top_statements.sql")
    except pgerrors.InsufficientPrivilege:
        conn.rollback()
        return LatencyReport(False, (
            "This role may not read pg_stat_statements, so query latency is not measured; GRANT pg_read_all_stats "
            "to the role in DATABASE_URL."
        ))
    now = time.time()
    sample = {"at": now, "stats_reset": reset, "statements": {s.key: s.counters() for s in current}}
    previous = store.previous(source)
    window = rates.interval(previous, sample, (), identity="stats_reset")
    store.save(source, sample)
    for row in plan_top:
        row["query"] = safe_query_text(row.get("query") or "")
    if window.usable:
        statements = in_interval(previous["statements"], current)
        label = window.note
    else:
        statements = current
        since = f" ({reset[:19]} UTC)" if reset else ""
        label = f"since pg_stat_statements was last reset{since}: {window.note}"
    return LatencyReport(True, window=label, interval_s=window.seconds, stats_reset=reset, statements=statements,
                         plan_top=plan_top)
