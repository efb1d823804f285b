"""Phase 4 probe and warm-up: the hot entities read through the cache (plan 4.1-4.3).

The hot set is what is read most: the most recently active conversations (their fetch
and the first page of their history) and the newest posts. The probe replays the same
skewed stream of reads, with a few message sends that invalidate, once with every read
going to PostgreSQL and once through the cache, and reports the hit rate, the fraction of
reads that still reached PostgreSQL, and the latency of both. The warm-up fills the cache
with the same entities, so a low hit rate after a deploy or a flush recovers at once.

Reads use the new code when the database has Phase 1, else the old code (the cache does
not care which query fills it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dbopt.cache import TTL_S, QueryCache, jsonable
from dbopt.workload import queries, samples, service
from dbopt.workload.probe import Context, Equivalence, Pattern, Probe, zipf

Q = queries.PG
HISTORY_PAGE = 100


@dataclass(frozen=True)
class Entity:
    kind: str  # conversation | history | post | send
    id: Any
    reader: Any = None


def read(conn: Any, entity: Entity, new_code: bool) -> Any:
    """What the service runs for an entity on a miss."""
    if entity.kind == "conversation":
        return (service.fetch_conversation_new if new_code else service.fetch_conversation_old)(conn, entity.id)
    if entity.kind == "history":
        if new_code:
            return service.history_page(conn, entity.id, entity.reader, HISTORY_PAGE)
        return service.history_old(conn, entity.id, entity.reader, HISTORY_PAGE, 0)
    if entity.kind == "post":
        return service.post_by_id(conn, entity.id)
    raise ValueError(entity.kind)


def cached_read(cache: QueryCache, conn: Any, entity: Entity, new_code: bool) -> Any:
    keys = cache.keys
    fetch = lambda: read(conn, entity, new_code)  # noqa: E731
    if entity.kind == "conversation":
        return cache.cached("conversation", keys.conversation(entity.id), fetch)
    if entity.kind == "history":
        return cache.cached("history", keys.history(entity.id, "first"), fetch, tag=keys.history_tag(entity.id))
    return cache.cached("post", keys.post(entity.id), fetch)


def send(cache: QueryCache, conn: Any, entity: Entity, new_code: bool, *, rollback: bool = True) -> int:
    """A send (rolled back unless the caller's transaction is) and the invalidation it causes."""
    seq = (service.send_new if new_code else service.send_old)(conn, entity.id, entity.reader, rollback=rollback)
    cache.on_new_message(entity.id)
    return seq


def hot_entities(conn: Any, conversations: int, posts: int) -> list[Entity]:
    """Hottest first: conversation fetch and first history page of the most recently active
    conversations, interleaved with the newest posts."""
    readers = {c.id: c.reader for c in samples.conversations(conn)}
    convs = samples.hot_conversations(conn, conversations)
    out: list[Entity] = []
    post_rows = samples.hot_posts(conn, posts)
    for i in range(max(len(convs), len(post_rows))):
        if i < len(convs):
            out += [Entity("conversation", convs[i]), Entity("history", convs[i], readers.get(convs[i]))]
        if i < len(post_rows):
            out.append(Entity("post", post_rows[i]["id"]))
    return out


class HotReadsProbe(Probe):
    metrics = ("hot_reads",)

    def __init__(self, conversations: int = 20, posts: int = 20, requests_factor: int = 5) -> None:
        self.conversations = conversations
        self.posts = posts
        self.requests_factor = requests_factor

    def prepare(self, ctx: Context) -> None:
        self.new_code = ctx.state.has("pg.sequence_number", "pg.counters")
        self.entities = hot_entities(ctx.pg, self.conversations, self.posts)
        n = ctx.settings.requests * self.requests_factor
        stream = zipf(self.entities, n, ctx.settings.zipf_s, ctx.rng("hot"))
        writes = max(0, ctx.settings.writes // 4)
        convs = [e for e in self.entities if e.kind == "history"]
        # Sends spread evenly through the stream, into the hottest conversations.
        for i in range(writes):
            if convs:
                target = convs[i % min(len(convs), 3)]
                stream.insert((i + 1) * len(stream) // (writes + 1), Entity("send", target.id, target.reader))
        self.stream = stream

    def describe(self, metric: str) -> str:
        sends = sum(e.kind == "send" for e in self.stream)
        return (f"{len(self.stream) - sends} reads over {len(self.entities)} hot entities (Zipf), {sends} message "
                f"sends that invalidate; {'new' if self.new_code else 'old'} code behind the cache")

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        new_code = self.new_code

        def request(s, e: Entity) -> Any:
            if e.kind == "send":
                return send(s.cache, s.pg, e, new_code)
            return cached_read(s.cache, s.pg, e, new_code)

        sql = (f"{Q}/plan_1_3_conversation_fetch.sql", f"{Q}/after_history_paged.sql", f"{Q}/post_by_id.sql") if new_code \
            else (f"{Q}/before_conversation_fetch.sql", f"{Q}/before_history_messages.sql", f"{Q}/post_by_id.sql")
        return {
            "uncached": Pattern("uncached", "every read from PostgreSQL", request, sql=sql, writes=True, bypass=True),
            "cached": Pattern("cached", "cache-aside over Redis, plan TTLs, invalidation on send", request,
                              needs=("redis",), sql=sql, writes=True, cached=True),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        return self.stream

    def equivalence(self, ctx: Context) -> Equivalence:
        """Through a cache of its own: read each hot entity twice (a miss, then a hit) and
        compare with PostgreSQL; then send a message into a few hot conversations and read
        again: the cache must give the new answer, not the one it held."""
        eq = Equivalence()
        if not ctx.state.has("redis"):
            eq.skipped = "no Redis"
            return eq
        from dbopt.cache import Keys

        cache = QueryCache(ctx.redis, keys=Keys(f"{ctx.settings.cache_namespace}{ctx.run_id[:8]}:equivalence:"))
        conn = ctx.pg
        try:
            for e in self.entities:
                for attempt in ("miss", "hit"):
                    got = jsonable(cached_read(cache, conn, e, self.new_code))
                    eq.compared += 1
                    if got != jsonable(read(conn, e, self.new_code)):
                        eq.mismatches.append({"entity": f"{e.kind} {e.id}", "read": attempt,
                                              "why": "the cache's answer differs from PostgreSQL's"})
            for e in [x for x in self.entities if x.kind == "history"][: max(1, ctx.settings.writes // 10)]:
                conversation = Entity("conversation", e.id)
                for entity in (conversation, e):  # both cached now
                    cached_read(cache, conn, entity, self.new_code)
                # The send is rolled back (a comparison writes nothing); its invalidation is not,
                # and what was cached inside the transaction is dropped with the namespace below.
                with conn.transaction(force_rollback=True):
                    send(cache, conn, e, self.new_code, rollback=False)
                    for entity in (conversation, e):
                        got = jsonable(cached_read(cache, conn, entity, self.new_code))
                        eq.compared += 1
                        if got != jsonable(read(conn, entity, self.new_code)):
                            eq.mismatches.append({"entity": f"{entity.kind} {entity.id}", "read": "after a send",
                                                  "why": "stale: the send did not invalidate it"})
        finally:
            cache.invalidate_pattern(cache.keys.everything())
        return eq


@dataclass
class WarmupReport:
    keys: int
    seconds: float
    by_kind: dict[str, int]
    new_code: bool


def warm(cache: QueryCache, conn: Any, entities: list[Entity], new_code: bool) -> WarmupReport:
    """Fetch each entity and store it with its TTL, replacing what the cache holds."""
    started = time.perf_counter()
    by_kind: dict[str, int] = {}
    keys = cache.keys
    for e in entities:
        value = read(conn, e, new_code)
        if e.kind == "conversation":
            cache.put(keys.conversation(e.id), TTL_S["conversation"], value)
        elif e.kind == "history":
            cache.put(keys.history(e.id, "first"), TTL_S["history"], value, tag=keys.history_tag(e.id))
        else:
            cache.put(keys.post(e.id), TTL_S["post"], value)
        by_kind[e.kind] = by_kind.get(e.kind, 0) + 1
    return WarmupReport(sum(by_kind.values()), time.perf_counter() - started, by_kind, new_code)
