"""Redis's preflight for the Phase 4 cache: reachable, and room for what the cache will hold.

Read-only: PING, INFO (`INFO memory` carries maxmemory and its policy, so a server that
disables CONFIG still answers), SCAN and MEMORY USAGE of a few existing keys.

The cache's expected size is the hot set warm_cache stores (dbopt/cache.py's keys: per
conversation its fetch, its first history page and the page's tag set; per post its
fetch), capped by the PostgreSQL row counts when they are known, times the bytes one key
takes. Bytes per key are measured on keys already in Redis when there are some (MEMORY
USAGE of a sample), else the defaults below (a `medium` cache, docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbopt.cache import Keys
from dbopt.errors import DboptError
from dbopt.preflight import Finding, go, no_go, verdict, warn

# Bytes Redis spends on one key of each kind (value, key, TTL, overhead), when none can be sampled.
DEFAULT_KEY_BYTES = {"conversation": 600, "history": 8_000, "tag": 250, "post": 700}
# warm_cache's defaults (assets/query_cache.py, WarmupConfig).
DEFAULT_CONVERSATIONS = 200
DEFAULT_POSTS = 500
SAMPLE_KEYS = 20
# Policies that can evict the cache's keys (every cache key has a TTL, so volatile-* can too).
EVICTING = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
            "volatile-ttl")


@dataclass(frozen=True)
class Expectation:
    """What the cache is expected to hold; config of the `redis_preflight` asset."""

    conversations: int = DEFAULT_CONVERSATIONS
    posts: int = DEFAULT_POSTS
    expected_bytes: int = 0  # when above 0, used as the cache's size instead of the estimate
    max_share: float = 0.8  # share of maxmemory the cache may fill; the rest is headroom
    namespace: str = ""
    key_bytes: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_KEY_BYTES))

    def validate(self) -> Expectation:
        for name in ("conversations", "posts", "expected_bytes"):
            if getattr(self, name) < 0:
                raise DboptError(f"{name} is {getattr(self, name)}, but it counts something; set 0 or more.")
        if not 0 < self.max_share <= 1:
            raise DboptError(
                f"max_share is {self.max_share}, but it is a share of maxmemory; set it above 0 and at most 1 "
                f"(0.8 leaves a fifth as headroom)."
            )
        return self


def estimate(client: Any, exp: Expectation, row_counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The cache's expected bytes, with how it was reached (keys per kind, bytes per key, source)."""
    rows = row_counts or {}
    conversations = min(exp.conversations, rows["conversations"]) if "conversations" in rows else exp.conversations
    posts = min(exp.posts, rows["posts"]) if "posts" in rows else exp.posts
    keys = {"conversation": conversations, "history": conversations, "tag": conversations, "post": posts}
    k = Keys(exp.namespace)
    patterns = {"conversation": k.conversation("*"), "history": k.history("*", "*"), "tag": k.history_tag("*"),
                "post": k.post("*")}
    per_key: dict[str, int] = {}
    measured: list[str] = []
    for kind, pattern in patterns.items():
        sizes = []
        for key in client.scan_iter(match=pattern, count=500):
            size = client.memory_usage(key)
            if size:
                sizes.append(int(size))
            if len(sizes) >= SAMPLE_KEYS:
                break
        if sizes:
            per_key[kind] = int(sum(sizes) / len(sizes))
            measured.append(kind)
        else:
            per_key[kind] = int(exp.key_bytes.get(kind, DEFAULT_KEY_BYTES[kind]))
    total = exp.expected_bytes or sum(keys[kind] * per_key[kind] for kind in keys)
    source = "expected_bytes in config" if exp.expected_bytes else (
        f"{sum(keys.values()):,} keys; bytes per key measured for {', '.join(measured)}" if measured
        else f"{sum(keys.values()):,} keys at default bytes per key")
    return {"bytes": int(total), "keys": keys, "bytes_per_key": per_key, "source": source,
            "rows_known": sorted(rows)}


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"


def findings(client_factory: Any, exp: Expectation | None = None,
             row_counts: Mapping[str, int] | None = None) -> list[Finding]:
    """Every Redis finding. `client_factory()` returns a pinged client or raises DboptError."""
    exp = (exp or Expectation()).validate()
    try:
        client = client_factory()
        client.ping()
        info = client.info("memory")
        server = client.info("server")
    except DboptError as exc:
        reason = str(exc)
        return [
            no_go("redis_reachable", reason, "unreachable", "PING answered"),
            warn("redis_memory", "Not read: Redis did not answer; fix redis_reachable first."),
            warn("redis_eviction_policy", "Not read: Redis did not answer; fix redis_reachable first."),
        ]
    except Exception as exc:  # a redis-py error past the pinged client: the class name only, never the URL
        reason = f"Redis failed ({type(exc).__name__}); check that it runs and that REDIS_URL is right."
        return [
            no_go("redis_reachable", reason, "unreachable", "PING answered"),
            warn("redis_memory", "Not read: Redis did not answer; fix redis_reachable first."),
            warn("redis_eviction_policy", "Not read: Redis did not answer; fix redis_reachable first."),
        ]
    out = [go("redis_reachable", f"Redis {server.get('redis_version')} answers PING.", "PING answered",
              "PING answered")]
    expected = estimate(client, exp, row_counts)
    out.append(_memory_finding(info, expected, exp))
    out.append(_policy_finding(info))
    return out


def _memory_finding(info: Mapping[str, Any], expected: dict[str, Any], exp: Expectation) -> Finding:
    maxmemory = int(info.get("maxmemory") or 0)
    used = int(info.get("used_memory") or 0)
    policy = str(info.get("maxmemory_policy") or "noeviction")
    need = expected["bytes"]
    details = [{"kind": kind, "keys": n, "bytes per key": expected["bytes_per_key"][kind],
                "bytes": n * expected["bytes_per_key"][kind]} for kind, n in expected["keys"].items()]
    if maxmemory == 0:
        return warn("redis_memory",
                    f"maxmemory is 0 (no limit): the cache (about {human(need)}, {expected['source']}) can grow until "
                    f"the host runs out of memory; set maxmemory (e.g. CONFIG SET maxmemory {max(need * 4, 64 << 20)}) "
                    f"with an evicting policy such as allkeys-lru.",
                    "0 (no limit)", human(need), details)
    room = int(maxmemory * exp.max_share) - used
    if need > room:
        shortfall = (f"maxmemory is {human(maxmemory)} with {human(used)} used, leaving {human(max(room, 0))} within "
                     f"{exp.max_share:.0%} of it, but the cache needs about {human(need)} ({expected['source']})")
        if policy not in EVICTING:
            return no_go("redis_memory",
                         f"{shortfall}, and the policy is {policy}: once full every cache write fails with OOM "
                         f"(warm_cache fails and the hit rate falls); raise maxmemory to at least "
                         f"{human(used + need / exp.max_share)} or set maxmemory-policy allkeys-lru.",
                         human(max(room, 0)), human(need), details)
        return warn("redis_memory",
                    f"{shortfall}; {policy} will evict cache entries to make room, so the hit rate will be lower than "
                    f"planned; raise maxmemory to at least {human(used + need / exp.max_share)}.",
                    human(max(room, 0)), human(need), details)
    return go("redis_memory",
              f"maxmemory {human(maxmemory)} with {human(used)} used leaves room for the cache's {human(need)} "
              f"({expected['source']}) within {exp.max_share:.0%} of it.",
              human(max(room, 0)), human(need), details)


def _policy_finding(info: Mapping[str, Any]) -> Finding:
    policy = str(info.get("maxmemory_policy") or "noeviction")
    if policy in EVICTING:
        return go("redis_eviction_policy",
                  f"maxmemory-policy {policy} can evict cache keys (each has a TTL) when memory is full.",
                  policy, "an evicting policy")
    return warn("redis_eviction_policy",
                f"maxmemory-policy is {policy}: when Redis is full, cache writes fail instead of evicting old entries; "
                f"set maxmemory-policy allkeys-lru (or volatile-lru: every cache key has a TTL).",
                policy, "an evicting policy")


def format_findings(found: Sequence[Finding], title: str = "Redis preflight") -> list[str]:
    """The lines `dbopt plan` prints."""
    lines = [f"{title}: {verdict(found).value}"]
    lines += [f"  [{f.verdict.value:<5}] {f.name}: {f.sentence}" for f in found]
    return lines
