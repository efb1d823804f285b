"""Timing requests on real connections with bounded concurrency.

Each worker thread has its own session (its own PostgreSQL connection, as a service
instance has its own pool slot) and takes the next request from a shared list, so at
most `concurrency` requests are in flight. Every request is timed on its own; the summary
gives p50/p95/p99 and the throughput over the wall-clock time of the whole batch.
"""

from __future__ import annotations

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


def statement_timeout_ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def timed_out(exc: BaseException) -> bool:
    """PostgreSQL cancelled the statement (statement_timeout, or an operator's pg_cancel_backend)."""
    return isinstance(exc, psycopg.errors.QueryCanceled)


class Session:
    """What one worker uses: a PostgreSQL connection (opened on first use, autocommit, like
    a pooled service connection), the shared ClickHouse client and the pattern's cache."""

    def __init__(self, pg_url: str | None = None, *, ch: Any = None, cache: Any = None,
                 statement_timeout_s: float = 30.0) -> None:
        self.pg_url = pg_url
        self.ch = ch
        self.cache = cache
        self.statement_timeout_s = statement_timeout_s
        self._pg: psycopg.Connection | None = None

    @property
    def pg(self) -> psycopg.Connection:
        if self._pg is None or self._pg.closed or self._pg.broken:
            if self.pg_url is None:
                raise RuntimeError("this probe has no PostgreSQL connection")
            kwargs = connection_kwargs("dbopt-workload", single_core=False)
            # Every statement of the benchmark is cut after statement_timeout_s: a query stuck
            # behind a lock or too slow for the data fails the step instead of hanging.
            kwargs["options"] += f" -c statement_timeout={statement_timeout_ms(self.statement_timeout_s)}"
            self._pg = psycopg.connect(self.pg_url, autocommit=True, **kwargs)
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

    The first `warmup` requests run once beforehand, untimed (plans cached, pages read). A
    statement PostgreSQL cancels (statement_timeout) stops every worker and is raised."""
    for request in list(requests)[: max(0, warmup)]:
        try:
            call(sessions[0], request)
        except Exception as exc:  # a failing request is counted below, where it is timed
            if timed_out(exc):
                raise
    timing = Timing(concurrency=len(sessions))
    lock = threading.Lock()
    position = [0]
    cancelled: list[BaseException] = []

    def worker(session: Session) -> None:
        while True:
            with lock:
                i = position[0]
                position[0] += 1
            if i >= len(requests) or cancelled:
                return
            started = time.perf_counter()
            try:
                call(session, requests[i])
            except Exception as exc:
                with lock:
                    if timed_out(exc):  # every later request would wait as long: stop them all
                        cancelled.append(exc)
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
    if cancelled:
        raise cancelled[0]
    return timing
