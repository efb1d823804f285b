"""Timing requests on real connections with bounded concurrency.

Each worker thread has its own session (its own PostgreSQL connection, as a service
instance has its own pool slot) and takes the next request from a shared list, so at
most `concurrency` requests are in flight. Every request is timed on its own; the summary
gives p50/p95/p99 and the throughput over the wall-clock time of the whole batch.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbopt.postgres.connect import connection_kwargs


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Session:
    """What one worker uses: a PostgreSQL connection (opened on first use, autocommit, like
    a pooled service connection), the shared ClickHouse client and the pattern's cache."""

    def __init__(self, pg_url: str | None = None, *, ch: Any = None, cache: Any = None) -> None:
        self.pg_url = pg_url
        self.ch = ch
        self.cache = cache
        self._pg: psycopg.Connection | None = None

    @property
    def pg(self) -> psycopg.Connection:
        if self._pg is None or self._pg.closed or self._pg.broken:
            if self.pg_url is None:
                raise RuntimeError("this probe has no PostgreSQL connection")
            self._pg = psycopg.connect(
                self.pg_url, autocommit=True, **connection_kwargs("dbopt-workload", single_core=False)
            )
        return self._pg

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
            self._pg = None


@dataclass
class Timing:
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    concurrency: int = 1

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "requests": len(lat),
            "concurrency": self.concurrency,
            "p50_ms": round(percentile(lat, 50), 3) if lat else None,
            "p95_ms": round(percentile(lat, 95), 3) if lat else None,
            "p99_ms": round(percentile(lat, 99), 3) if lat else None,
            "mean_ms": round(sum(lat) / len(lat), 3) if lat else None,
            "qps": round(len(lat) / self.wall_s, 1) if self.wall_s > 0 and lat else None,
            "errors": len(self.errors),
            "first_error": self.errors[0][:300] if self.errors else "",
        }


def run(
    call: Callable[[Session, Any], Any],
    requests: Sequence[Any],
    sessions: Sequence[Session],
    *,
    warmup: int = 0,
) -> Timing:
    """Time `call(session, request)` for every request, `len(sessions)` at a time.

    The first `warmup` requests run once beforehand, untimed (plans cached, pages read)."""
    for request in list(requests)[: max(0, warmup)]:
        with contextlib.suppress(Exception):  # a failing request is counted below, where it is timed
            call(sessions[0], request)
    timing = Timing(concurrency=len(sessions))
    lock = threading.Lock()
    position = [0]

    def worker(session: Session) -> None:
        while True:
            with lock:
                i = position[0]
                position[0] += 1
            if i >= len(requests):
                return
            started = time.perf_counter()
            try:
                call(session, requests[i])
            except Exception as exc:
                with lock:
                    timing.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                timing.latencies_ms.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(s,), name=f"workload-{i}") for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    timing.wall_s = time.perf_counter() - started
    return timing
