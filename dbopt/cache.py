"""Phase 4's cache-aside reader over Redis (plan 4.1-4.3).

`QueryCache(redis_client)` is the plan's `QueryCache`: `get_or_fetch(key, ttl_s, fetch)`
reads Redis first and, on a miss, calls `fetch` (the database) and stores its answer
with the entity's TTL; `invalidate(key)` drops one key on write. Two changes from the plan:

- `invalidate_pattern` walks the keyspace with `SCAN` and drops keys with `UNLINK` in
  batches. The plan's `KEYS pattern` + `DEL` blocks Redis for the whole keyspace walk and
  the whole delete; `SCAN` returns a batch at a time and `UNLINK` frees memory in the
  background, so readers keep being served in between.
- A write that must drop many keys of one entity (every cached page of a conversation's
  history) does not scan the keyspace at all: those keys are members of a *tag* set when
  they are stored, and `invalidate_tag` pops the set's members and drops them. A message
  send then costs three round trips to Redis, whatever the size of the keyspace.

If Redis fails, reads fall through to the database (counted in `errors`); the cache never
makes a request fail. Values are stored as JSON (uuids, timestamps, bytes, decimals as
text), so a hit returns the JSON form of what `fetch` returned; `jsonable` gives that form
for comparisons.

Cache-aside keeps one known race: a reader that fetched before a write committed can store
its stale answer after the write's invalidation; the TTL bounds how long that lasts.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

log = logging.getLogger("dbopt.cache")
# Failed invalidations, counted in Redis itself once it answers again, for the monitoring
# (dbopt/monitoring/redis_stats.py) and the cache alert: one counter per server, like INFO's.
INVALIDATION_ERRORS_KEY = "dbopt:cache:invalidation_errors"

# Plan 4.3 "Cache Strategy by Entity", in seconds.
TTL_S: dict[str, int] = {
    "post": 5 * 60,  # on update/delete
    "conversation": 2 * 60,  # on new message
    "profile": 10 * 60,  # on profile update
    "feed": 60,  # on new post/follow
    "history": 30,  # on new message
}
INVALIDATED_BY = {
    "post": "update or delete of the post",
    "conversation": "a new message in it",
    "profile": "an update of the profile",
    "feed": "a new post or follow",
    "history": "a new message in the conversation",
}


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot cache a {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"))


def jsonable(value: Any) -> Any:
    """What a cache hit returns for `value`: its JSON round trip."""
    return json.loads(dumps(value))


@dataclass(frozen=True)
class Keys:
    """Key builders; `namespace` keeps a benchmark's keys apart from the application's."""

    namespace: str = ""

    def post(self, post_id: Any) -> str:
        return f"{self.namespace}post:{post_id}"

    def conversation(self, conversation_id: Any) -> str:
        return f"{self.namespace}conversation:{conversation_id}"

    def profile(self, user_id: Any) -> str:
        return f"{self.namespace}profile:{user_id}"

    def feed(self, user_id: Any, limit: int = 20) -> str:
        return f"{self.namespace}feed:{user_id}:{limit}"

    def history(self, conversation_id: Any, page: str) -> str:
        """One page of a conversation's history (`page`: a cursor, or `first`)."""
        return f"{self.namespace}history:{conversation_id}:{page}"

    def history_tag(self, conversation_id: Any) -> str:
        """The set of a conversation's cached history pages, dropped on a new message."""
        return f"{self.namespace}tag:history:{conversation_id}"

    def posts_page(self, user_id: Any, page: str) -> str:
        return f"{self.namespace}posts:{user_id}:{page}"

    def posts_tag(self, user_id: Any) -> str:
        return f"{self.namespace}tag:posts:{user_id}"

    def everything(self) -> str:
        """A SCAN pattern for every key of this namespace."""
        return f"{self.namespace}*"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    fetch_seconds: float = 0.0  # time spent in `fetch` (the database)
    invalidations: int = 0
    # Invalidations Redis refused after the write committed: those keys stay stale until their TTL.
    invalidation_errors: int = 0

    @property
    def reads(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        return self.hits / self.reads if self.reads else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "misses": self.misses, "errors": self.errors, "hit_rate": round(self.hit_rate, 4),
                "fetch_seconds": round(self.fetch_seconds, 4), "invalidations": self.invalidations,
                "invalidation_errors": self.invalidation_errors}


class QueryCache:
    """Cache-aside over one redis-py client (thread-safe, like the client).

    With `client=None` it is a pass-through that counts every read as a database fetch:
    the uncached baseline of a benchmark, measured with the same accounting."""

    def __init__(self, client: Any, *, keys: Keys | None = None, scan_batch: int = 1000) -> None:
        self.client = client
        self.keys = keys or Keys()
        self.scan_batch = scan_batch
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._unreported = 0  # failed invalidations not yet added to INVALIDATION_ERRORS_KEY

    def _count(self, **delta: float) -> None:
        with self._lock:
            for name, value in delta.items():
                setattr(self.stats, name, getattr(self.stats, name) + value)

    def get_or_fetch(self, key: str, ttl_s: int, fetch: Callable[[], Any], *, tag: str | None = None) -> Any:
        """The cached value, or `fetch()` stored for `ttl_s` seconds (and added to `tag`)."""
        import redis

        if self.client is None:
            return self._fetch(fetch)
        try:
            raw = self.client.get(key)
        except redis.exceptions.RedisError:
            raw = None
            self._count(errors=1)
        if raw is not None:
            try:
                value = json.loads(raw)
            except ValueError:  # not ours, or truncated: treat as a miss and overwrite
                pass
            else:
                self._count(hits=1)
                return value
        value = self._fetch(fetch)
        try:
            self.put(key, ttl_s, value, tag=tag)
        except redis.exceptions.RedisError:
            self._count(errors=1)
        return value

    def _fetch(self, fetch: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = fetch()
        self._count(misses=1, fetch_seconds=time.perf_counter() - started)
        return value

    def put(self, key: str, ttl_s: int, value: Any, *, tag: str | None = None) -> None:
        """Store a value (a fill after a miss, or a warm-up); one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(key, dumps(value), ex=ttl_s)
        if tag:
            # Members of a tag share the entity's TTL, so the tag outlives each of them.
            pipe.sadd(tag, key)
            pipe.expire(tag, ttl_s)
        pipe.execute()

    def cached(self, entity: str, key: str, fetch: Callable[[], Any], *, tag: str | None = None) -> Any:
        """`get_or_fetch` with the plan's TTL for the entity."""
        return self.get_or_fetch(key, TTL_S[entity], fetch, tag=tag)

    def _invalidation_failed(self, what: str, exc: Exception) -> int:
        """Invalidation runs after the database committed: a Redis failure here must not turn
        a write that went through into an error (the client would retry it). The stale keys
        expire with their TTL; the failure is logged and counted in `invalidation_errors`."""
        self._count(errors=1, invalidation_errors=1)
        with self._lock:
            self._unreported += 1
        log.warning("cache invalidation of %s failed (%s); cached entries stay until their TTL", what,
                    type(exc).__name__)
        return 0

    def _report_failures(self) -> None:
        """Redis answers again: add the failures it missed to its counter (best effort)."""
        import redis

        with self._lock:
            pending, self._unreported = self._unreported, 0
        if not pending:
            return
        try:
            self.client.incrby(INVALIDATION_ERRORS_KEY, pending)
        except redis.exceptions.RedisError:
            with self._lock:
                self._unreported += pending

    def invalidate(self, *keys: str) -> int:
        """Drop keys (on write); returns how many existed. Never raises for Redis."""
        import redis

        if not keys or self.client is None:
            return 0
        try:
            n = int(self.client.unlink(*keys))
        except redis.exceptions.RedisError as exc:
            return self._invalidation_failed(", ".join(keys), exc)
        self._count(invalidations=len(keys))
        self._report_failures()
        return n

    def invalidate_tag(self, tag: str) -> int:
        """Drop every key stored under `tag`; no keyspace walk. Members are taken with SPOP,
        which is atomic, so a page cached while this runs keeps its membership for the next
        write instead of being lost with the tag. Returns how many keys were dropped; never
        raises for Redis."""
        import redis

        dropped = 0
        try:
            while self.client is not None:
                members = self.client.spop(tag, self.scan_batch)
                if not members:
                    break
                dropped += int(self.client.unlink(*members))
                self._count(invalidations=len(members))
                if len(members) < self.scan_batch:
                    break
        except redis.exceptions.RedisError as exc:
            return dropped + self._invalidation_failed(tag, exc)
        self._report_failures()
        return dropped

    def scan(self, pattern: str) -> Iterator[list[Any]]:
        """Keys matching `pattern`, a SCAN batch at a time (never KEYS)."""
        cursor = 0
        while self.client is not None:
            cursor, batch = self.client.scan(cursor=cursor, match=pattern, count=self.scan_batch)
            if batch:
                yield batch
            if int(cursor) == 0:
                return

    def invalidate_pattern(self, pattern: str) -> int:
        """Drop every key matching `pattern` with SCAN + UNLINK in batches; returns how many."""
        dropped = 0
        for batch in self.scan(pattern):
            dropped += int(self.client.unlink(*batch))
        self._count(invalidations=dropped)
        return dropped

    # --- invalidation on write (plan 4.3) ------------------------------------------------------

    def on_new_message(self, conversation_id: Any) -> int:
        """A message was sent: the conversation and every cached page of its history go."""
        return self.invalidate(self.keys.conversation(conversation_id)) + self.invalidate_tag(
            self.keys.history_tag(conversation_id)
        )
