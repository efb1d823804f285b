"""The frame every probe fits in: patterns, samples, timing, cache accounting, equivalence.

A probe measures one or more metrics of `registry.METRICS`. For each metric it offers
query patterns (the plan's old code, the new code of each phase); `measure` runs every
pattern the database's state allows, with bounded concurrency on real connections, and
records p50/p95/p99 and queries per second, plus hit rate and the fraction of reads that
reached the database for cached patterns. `equivalence` compares the answers of the new
patterns with the old ones on a sample.
"""

from __future__ import annotations

import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbopt.cache import Keys, QueryCache
from dbopt.workload import measure
from dbopt.workload.registry import METRICS
from dbopt.workload.state import State

Log = Callable[[str], None]


@dataclass(frozen=True)
class Pattern:
    name: str
    label: str
    call: Callable[[measure.Session, Any], Any]
    needs: tuple[str, ...] = ()
    sql: tuple[str, ...] = ()
    writes: bool = False
    cached: bool = False  # runs with a fresh QueryCache; reports hit rate and database reads
    bypass: bool = False  # runs with a pass-through QueryCache: every read counted as a database read
    clickhouse: bool = False  # serial on chDB (one query at a time per process)
    slow: bool = False  # hundreds of ms a request: settings.slow_requests, one warm-up request


@dataclass
class Settings:
    requests: int = 60  # timed requests per pattern
    concurrency: int = 2
    warmup: int = 5
    sample_size: int = 20
    writes: int = 20  # messages written per message-send pattern
    seed: int = 7
    zipf_s: float = 1.1  # skew of the repeated requests of cached patterns
    cache_namespace: str = "dbopt:bench:"
    ts_config: str = "'simple'::regconfig"
    slow_requests: int = 10  # timed requests of patterns that take hundreds of ms (feed from CDC)
    statement_timeout_s: float = 30.0  # every PostgreSQL statement of the benchmark is cut after this


@dataclass
class Context:
    """What a probe works with: the databases, the state they are in, the settings."""

    pg_url: str | None
    state: State
    settings: Settings = field(default_factory=Settings)
    ch: Any = None
    redis: Any = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    log: Log = lambda _: None
    _sessions: list[measure.Session] = field(default_factory=list)

    def sessions(self, n: int | None = None) -> list[measure.Session]:
        want = max(1, n or self.settings.concurrency)
        while len(self._sessions) < want:
            self._sessions.append(measure.Session(self.pg_url, ch=self.ch,
                                                  statement_timeout_s=self.settings.statement_timeout_s))
        return self._sessions[:want]

    @property
    def pg(self) -> Any:
        """A connection for preparing samples and comparing answers (not timed)."""
        return self.sessions(1)[0].pg

    def rng(self, salt: str) -> random.Random:
        return random.Random(f"{self.settings.seed}:{salt}")

    def render(self) -> dict[str, str]:
        return {"ts_config": self.settings.ts_config}

    def close(self) -> None:
        for s in self._sessions:
            s.close()
        self._sessions.clear()


def cycle(items: Sequence[Any], n: int) -> list[Any]:
    """n requests going round the sample."""
    return [items[i % len(items)] for i in range(n)] if items else []


def zipf(items: Sequence[Any], n: int, s: float, rng: random.Random) -> list[Any]:
    """n requests drawn with repetition, the first items the most popular (a hot set)."""
    if not items:
        return []
    weights = [1.0 / (rank**s) for rank in range(1, len(items) + 1)]
    return rng.choices(list(items), weights=weights, k=n)


@dataclass
class Equivalence:
    """The answer of the new code against the old one, on a sample."""

    compared: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    explained: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def as_dict(self) -> dict[str, Any]:
        return {"compared": self.compared, "mismatches": self.mismatches[:50], "mismatch_count": len(self.mismatches),
                "explained": self.explained[:50], "explained_count": len(self.explained), "notes": self.notes,
                "skipped": self.skipped, "passed": self.passed}


class Probe(ABC):
    """One area of the plan: its metrics, their patterns, samples and comparison."""

    metrics: tuple[str, ...] = ()

    @abstractmethod
    def prepare(self, ctx: Context) -> None:
        """Choose the sample (not timed)."""

    @abstractmethod
    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        """Every pattern of the metric, by name."""

    @abstractmethod
    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        """The requests a pattern is timed on."""

    def describe(self, metric: str) -> str:
        """The sample, in words (shown next to the figures)."""
        return ""

    def equivalence(self, ctx: Context) -> Equivalence:
        return Equivalence(skipped="no comparison defined")

    def extra_patterns(self, metric: str) -> tuple[str, ...]:
        """Patterns measured besides the table's (e.g. for a claim)."""
        return ()


def measure_probe(probe: Probe, ctx: Context) -> dict[str, dict[str, Any]]:
    """Run every pattern of every metric of the probe that the state allows."""
    probe.prepare(ctx)
    out: dict[str, dict[str, Any]] = {}
    for metric in probe.metrics:
        spec = METRICS[metric]
        names = list(dict.fromkeys([p for p in spec.patterns if p] + list(probe.extra_patterns(metric))))
        patterns = probe.patterns(ctx, metric)
        result: dict[str, Any] = {"metric": metric, "title": spec.title, "patterns": {}, "skipped": {},
                                  "sample": probe.describe(metric)}
        for name in names:
            pattern = patterns[name]
            missing = ctx.state.missing(*pattern.needs)
            if missing:
                result["skipped"][name] = f"needs {', '.join(missing)}"
                continue
            requests = probe.requests(ctx, metric, pattern)
            if not requests:
                result["skipped"][name] = "no sample on this data"
                continue
            ctx.log(f"{metric}: {name} ({pattern.label}), {len(requests)} requests")
            result["patterns"][name] = run_pattern(ctx, metric, pattern, requests)
        out[metric] = result
    return out


def run_pattern(ctx: Context, metric: str, pattern: Pattern, requests: list[Any]) -> dict[str, Any]:
    serial = pattern.clickhouse and getattr(ctx.ch, "backend", "") == "chdb"
    sessions = ctx.sessions(1 if serial else None)
    namespace = f"{ctx.settings.cache_namespace}{ctx.run_id[:8]}:{metric}:{pattern.name}:"
    cache = None
    if pattern.bypass:
        cache = QueryCache(None, keys=Keys(namespace))
    elif pattern.cached or "redis" in pattern.needs:
        cache = QueryCache(ctx.redis, keys=Keys(namespace))
    for s in sessions:
        s.cache = cache
    try:
        warmup = 0 if pattern.writes or pattern.cached else min(ctx.settings.warmup, 1 if pattern.slow else 1 << 30)
        timing = measure.run(pattern.call, requests, sessions, warmup=warmup)
    finally:
        for s in sessions:
            s.cache = None
    summary = {"label": pattern.label, "sql": list(pattern.sql), **timing.summary()}
    if cache is not None:
        stats = cache.stats
        summary.update(cache=stats.as_dict(), hit_rate=round(stats.hit_rate, 4),
                       db_fraction=round(stats.misses / stats.reads, 4) if stats.reads else None)
        cache.invalidate_pattern(cache.keys.everything())
    return summary
