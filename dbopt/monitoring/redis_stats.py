"""Redis cache hit rate from `INFO stats`, over the last interval.

`keyspace_hits` and `keyspace_misses` count since the server started (or since CONFIG
RESETSTAT): their ratio is a lifetime average that hides what happens now, e.g. a cache
emptied by a deploy. The rate here is hits / (hits + misses) between the previous sample
and this one. The previous sample is kept per server incarnation (its `run_id`), so a
restarted server starts a new series instead of producing a negative interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dbopt.cache import INVALIDATION_ERRORS_KEY
from dbopt.monitoring import rates
from dbopt.monitoring.samples import SampleStore

COUNTERS = ("keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys")


@dataclass
class CacheReport:
    window: str
    interval_s: float | None
    hits: int | None  # in the interval
    misses: int | None
    evicted: int | None
    since_start_hits: int
    since_start_misses: int
    uptime_s: int
    keys: int
    used_memory: int
    maxmemory: int
    # Cache invalidations Redis missed (it was down after a write): keys stale until their TTL.
    invalidation_errors: int = 0

    @property
    def lookups(self) -> int | None:
        return None if self.hits is None or self.misses is None else self.hits + self.misses

    @property
    def hit_rate_pct(self) -> float | None:
        """Hits over lookups in the interval; None without an interval or without lookups."""
        if not self.lookups:
            return None
        return 100.0 * self.hits / self.lookups

    @property
    def since_start_hit_rate_pct(self) -> float | None:
        total = self.since_start_hits + self.since_start_misses
        return 100.0 * self.since_start_hits / total if total else None


def sample(client: Any) -> dict[str, Any]:
    # Read before INFO, so that this lookup falls in the interval that ends here: `measure`
    # takes it out of that interval's hits or misses, which stay the application's alone.
    invalidation_errors = client.get(INVALIDATION_ERRORS_KEY)
    stats = client.info("stats")
    server = client.info("server")
    memory = client.info("memory")
    keyspace = client.info("keyspace")
    return {
        "at": time.time(),
        "run_id": server["run_id"],
        "uptime_s": int(server.get("uptime_in_seconds", 0)),
        **{c: int(stats.get(c, 0)) for c in COUNTERS},
        "keys": sum(int(db.get("keys", 0)) for db in keyspace.values() if isinstance(db, dict)),
        "used_memory": int(memory.get("used_memory", 0)),
        "maxmemory": int(memory.get("maxmemory", 0)),
        "invalidation_errors": int(invalidation_errors or 0),
        "own_lookup_hit": invalidation_errors is not None,
    }


def measure(client: Any, store: SampleStore) -> CacheReport:
    """Sample INFO, compare with this server's previous sample, save this one."""
    current = sample(client)
    source = f"redis:{current['run_id']}"
    window = rates.interval(store.previous(source), current, COUNTERS, identity="run_id")
    store.save(source, current)
    d = window.deltas

    own = {"keyspace_hits": int(current["own_lookup_hit"]), "keyspace_misses": int(not current["own_lookup_hit"])}

    def got(name: str) -> int | None:
        return int(d[name]) - own.get(name, 0) if window.usable else None

    return CacheReport(
        window=window.note,
        interval_s=window.seconds,
        hits=got("keyspace_hits"),
        misses=got("keyspace_misses"),
        evicted=got("evicted_keys"),
        since_start_hits=current["keyspace_hits"],
        since_start_misses=current["keyspace_misses"],
        uptime_s=current["uptime_s"],
        keys=current["keys"],
        used_memory=current["used_memory"],
        maxmemory=current["maxmemory"],
        invalidation_errors=current["invalidation_errors"],
    )
