"""Phase 3 probe: deep pagination by OFFSET against keyset cursors (plan 3.1, 3.2, 3.3)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dbopt.workload import queries, samples, service
from dbopt.workload.probe import Context, Equivalence, Pattern, Probe, cycle, zipf

Q = queries.PG
TARGET_PAGE = 100  # the plan's "Deep pagination (p100)"


@dataclass(frozen=True)
class Listing:
    """One paginated list: a conversation's messages, or an author's posts."""

    kind: str  # "messages" | "posts"
    owner: Any  # conversation id or author id
    size: int  # rows per page
    rows: int

    @property
    def scope(self) -> str:
        return f"{self.kind}:{self.owner}"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.rows / self.size))

    def offset_page(self, conn: Any, page: int) -> list[dict[str, Any]]:
        fn = service.messages_offset if self.kind == "messages" else service.posts_offset
        return fn(conn, self.owner, self.size, (page - 1) * self.size)

    def cursor_page(self, conn: Any, token: str | None) -> list[dict[str, Any]]:
        fn = service.messages_cursor if self.kind == "messages" else service.posts_cursor
        return fn(conn, self.owner, self.size, service.decode(token, self.scope))

    def token_for(self, conn: Any, page: int) -> str | None:
        """The cursor a client holds when it asks for `page`: after the last row of the page before."""
        if page <= 1:
            return None
        fn = service.messages_offset if self.kind == "messages" else service.posts_offset
        return service.next_cursor(fn(conn, self.owner, 1, (page - 1) * self.size - 1), self.scope)


def around(page: int, last: int, spread: int = 2) -> list[int]:
    return list(range(max(1, page - spread), min(last, page + spread) + 1))


class PaginationProbe(Probe):
    metrics = ("deep_pagination", "deep_pagination_last", "deep_pagination_posts")

    def __init__(self, equivalence_pages: int = TARGET_PAGE + 5) -> None:
        self.equivalence_pages = equivalence_pages

    def prepare(self, ctx: Context) -> None:
        convs = samples.conversations(ctx.pg)
        large = samples.largest(convs)
        authors = queries.pg(ctx.pg, "workload_post_authors", {"n": 1})
        self.messages = Listing("messages", large.id, 50, large.listed) if large else None
        self.posts = Listing("posts", authors[0]["user_id"], 20, authors[0]["posts"]) if authors else None
        rng = ctx.rng("pagination")
        others = [c for c in convs if c.listed > 50 and (not large or c.id != large.id)]
        self.walks = [Listing("messages", c.id, 50, c.listed)
                      for c in rng.sample(others, min(len(others), max(1, ctx.settings.sample_size // 5)))]
        self.sample: dict[str, list[tuple[int, str | None]]] = {}
        for metric, listing in self.listings().items():
            if listing is None:
                continue
            pages = around(listing.pages, listing.pages) if metric == "deep_pagination_last" else \
                around(min(TARGET_PAGE, listing.pages), listing.pages)
            self.sample[metric] = [(p, listing.token_for(ctx.pg, p)) for p in pages]

    def listings(self) -> dict[str, Listing | None]:
        return {"deep_pagination": self.messages, "deep_pagination_last": self.messages,
                "deep_pagination_posts": self.posts}

    def describe(self, metric: str) -> str:
        listing = self.listings()[metric]
        if listing is None:
            return "nothing to page through"
        pages = ", ".join(str(p) for p, _ in self.sample.get(metric, []))
        what = "messages of the largest conversation" if listing.kind == "messages" else "posts of the busiest author"
        return f"{what}: {listing.rows:,} rows, {listing.size} per page, {listing.pages:,} pages; pages {pages}"

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        listing = self.listings()[metric]
        if listing is None:
            return {}
        messages = listing.kind == "messages"
        entity = "history" if messages else "post"

        def cached(s, r) -> Any:
            keys = s.cache.keys
            key = keys.history(listing.owner, f"p{listing.size}:{r[1] or 'first'}") if messages else \
                keys.posts_page(listing.owner, r[1] or "first")
            tag = keys.history_tag(listing.owner) if messages else keys.posts_tag(listing.owner)
            return s.cache.cached(entity, key, lambda: listing.cursor_page(s.pg, r[1]), tag=tag)

        offset_sql = f"{Q}/before_messages_offset.sql" if messages else f"{Q}/before_posts_offset.sql"
        cursor_sql = (f"{Q}/plan_3_2_messages_cursor_first_page.sql", f"{Q}/plan_3_2_messages_cursor_next_page.sql") \
            if messages else (f"{Q}/plan_3_1_posts_cursor.sql",)
        ttl = "30 s" if messages else "5 min"
        return {
            "offset": Pattern("offset", "LIMIT/OFFSET page (before 3.3)", lambda s, r: listing.offset_page(s.pg, r[0]),
                              sql=(offset_sql,)),
            "cursor": Pattern("cursor", f"keyset cursor, decoded and verified ({'3.2' if messages else '3.1'})",
                              lambda s, r: listing.cursor_page(s.pg, r[1]), needs=("pg.sequence_number",),
                              sql=cursor_sql),
            "cursor_cached": Pattern("cursor_cached", f"keyset page behind the cache (TTL {ttl})", cached,
                                     needs=("pg.sequence_number", "redis"), sql=cursor_sql, cached=True),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        sample = self.sample.get(metric, [])
        if pattern.cached:
            return zipf(sample, ctx.settings.requests, ctx.settings.zipf_s, ctx.rng(f"{metric}-zipf"))
        return cycle(sample, ctx.settings.requests)

    def equivalence(self, ctx: Context) -> Equivalence:
        """Walk each list page by page with cursors (through the codec, as a client would)
        and compare every page with the OFFSET page of the same number: same rows, same
        order; and across the walk no row twice. Messages share created_at, so page
        boundaries fall inside runs of equal timestamps."""
        eq = Equivalence()
        if not ctx.state.has("pg.sequence_number"):
            eq.skipped = "Phase 1.1 not applied: only the old code runs here"
            return eq
        conn = ctx.pg
        lists = [x for x in (self.messages, self.posts, *self.walks) if x]
        for listing in lists:
            token, seen = None, set()
            for page in range(1, min(listing.pages, self.equivalence_pages) + 1):
                by_cursor = listing.cursor_page(conn, token)
                by_offset = listing.offset_page(conn, page)
                eq.compared += 1
                ids = [str(r["id"]) for r in by_cursor]
                if ids != [str(r["id"]) for r in by_offset]:
                    eq.mismatches.append({"list": listing.scope, "page": page,
                                          "why": f"cursor page has {len(ids)} rows, OFFSET page {len(by_offset)}; "
                                                 f"first differing id {_first_diff(ids, by_offset)}"})
                repeated = seen.intersection(ids)
                if repeated:
                    eq.mismatches.append({"list": listing.scope, "page": page,
                                          "why": f"{len(repeated)} rows already on an earlier page"})
                seen.update(ids)
                token = service.next_cursor(by_cursor, listing.scope)
                if token is None:
                    break
        eq.notes.append(f"walked {eq.compared} pages of {len(lists)} lists, up to page {self.equivalence_pages} each")
        return eq


def _first_diff(ids: list[str], rows: list[dict[str, Any]]) -> str:
    other = [str(r["id"]) for r in rows]
    for a, b in zip(ids, other, strict=False):
        if a != b:
            return f"{a} vs {b}"
    return "(one page is a prefix of the other)"
