"""Phase 2.1 probe: message history, 100 messages a page, with reactions and attachments."""

from __future__ import annotations

import base64
from typing import Any

from dbopt.workload import queries, samples, service
from dbopt.workload.probe import Context, Equivalence, Pattern, Probe, cycle, zipf

Q = queries.PG
PAGE = 100  # the plan's "Message history (100msg)"


def normalize(rows: list[dict[str, Any]]) -> list[tuple]:
    """A page as comparable values: the message's columns, its reactions and attachments as
    sets (the old code's lists and the new query's JSON arrays alike). sequence_number is
    left out: the old code (baseline schema) had none."""
    out = []
    for r in rows:
        reactions = frozenset((x["emoji"], int(x["count"]), bool(x["user_reacted"])) for x in r["reactions_json"] or [])
        attachments = frozenset((str(a["id"]), a["file_name"], a["file_type"], int(a["file_size"]), a["s3_key"])
                                for a in r["attachments_json"] or [])
        out.append((str(r["id"]), str(r["sender_id"]), _text(r["created_at"]), r["content"],
                    _b64(r["content_encrypted"]), _b64(r["content_nonce"]), r["message_type"], r["version_number"],
                    _text(r["recalled_at"]), _text(r["updated_at"]), reactions, attachments))
    return out


def _text(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _b64(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return base64.b64encode(bytes(value)).decode()


def first_difference(old: list[tuple], new: list[tuple]) -> str:
    if len(old) != len(new):
        return f"{len(old)} rows before, {len(new)} after"
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        if a != b:
            fields = ("id", "sender_id", "created_at", "content", "content_encrypted", "content_nonce",
                      "message_type", "version_number", "recalled_at", "updated_at", "reactions", "attachments")
            diff = [f for f, x, y in zip(fields, a, b, strict=True) if x != y]
            return f"row {i + 1} differs in {', '.join(diff)}"
    return ""


class MessageHistoryProbe(Probe):
    metrics = ("message_history",)

    def __init__(self, pages_per_conversation: int = 5) -> None:
        self.pages_per_conversation = pages_per_conversation

    def prepare(self, ctx: Context) -> None:
        convs = [c for c in samples.conversations(ctx.pg) if c.visible >= PAGE]
        rng = ctx.rng("history")
        self.convs = rng.sample(convs, min(len(convs), ctx.settings.sample_size))
        self.sample: list[tuple[Any, Any, int, str | None]] = []
        for c in self.convs:
            pages = min(c.visible // PAGE, self.pages_per_conversation)
            for page in range(pages):
                token = None
                if page:
                    last = queries.pg(ctx.pg, "before_history_messages",
                                      {"conversation_id": c.id, "limit": 1, "offset": page * PAGE - 1})
                    token = service.next_cursor(last, f"history:{c.id}")
                self.sample.append((c.id, c.reader, page, token))
        rng.shuffle(self.sample)

    def describe(self, metric: str) -> str:
        return (f"{len(self.sample)} pages of {PAGE} messages in {len(self.convs)} random conversations of "
                f"{PAGE}+ visible messages (the first {self.pages_per_conversation} pages of each)")

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        def cursor_page(s, r) -> list:
            cid, user, _, token = r
            return service.history_page(s.pg, cid, user, PAGE, after=service.decode(token, f"history:{cid}"))

        def cached(s, r) -> Any:
            cid = r[0]
            return s.cache.cached("history", s.cache.keys.history(cid, r[3] or "first"), lambda: cursor_page(s, r),
                                  tag=s.cache.keys.history_tag(cid))

        after = (f"{Q}/after_history_paged.sql",)
        return {
            "three_queries": Pattern(
                "three_queries", "messages, then reactions, then attachments of the page (before 2.1)",
                lambda s, r: service.history_old(s.pg, r[0], r[1], PAGE, r[2] * PAGE),
                sql=(f"{Q}/before_history_messages.sql", f"{Q}/before_history_reactions.sql",
                     f"{Q}/before_history_attachments.sql")),
            "plan_2_1_as_written": Pattern(
                "plan_2_1_as_written", "2.1 as the plan shapes it: join, GROUP BY, then LIMIT (OFFSET pages)",
                lambda s, r: service.history_page(s.pg, r[0], r[1], PAGE, offset=r[2] * PAGE, grouped=True),
                needs=("pg.sequence_number",), sql=(f"{Q}/plan_2_1_message_history.sql",)),
            "single_query": Pattern(
                "single_query", "one JSON-aggregating query, page selected first, OFFSET pages (2.1)",
                lambda s, r: service.history_page(s.pg, r[0], r[1], PAGE, offset=r[2] * PAGE),
                needs=("pg.sequence_number",), sql=after),
            "single_query_cursor": Pattern("single_query_cursor", "2.1's query after a keyset cursor (3.2)",
                                           cursor_page, needs=("pg.sequence_number",), sql=after),
            "cursor_cached": Pattern("cursor_cached", "2.1 + cursor behind the cache (TTL 30 s)", cached,
                                     needs=("pg.sequence_number", "redis"), sql=after, cached=True),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        if pattern.cached:
            return zipf(self.sample, ctx.settings.requests, ctx.settings.zipf_s, ctx.rng("history-zipf"))
        return cycle(self.sample, ctx.settings.requests)

    def extra_patterns(self, metric: str) -> tuple[str, ...]:
        return ("plan_2_1_as_written",)

    def equivalence(self, ctx: Context) -> Equivalence:
        """Each sampled page: the 3-query history, the single query by OFFSET, after the
        page's cursor, and in the plan's shape hold the same messages, reactions and
        attachments."""
        eq = Equivalence()
        if not ctx.state.has("pg.sequence_number"):
            eq.skipped = "Phase 1.1 not applied: only the old code runs here"
            return eq
        conn = ctx.pg
        verbatim_differs = 0
        for cid, user, page, token in self.sample:
            old = normalize(service.history_old(conn, cid, user, PAGE, page * PAGE))
            by_offset = normalize(service.history_page(conn, cid, user, PAGE, offset=page * PAGE))
            by_cursor = normalize(service.history_page(conn, cid, user, PAGE,
                                                       after=service.decode(token, f"history:{cid}")))
            grouped = normalize(service.history_page(conn, cid, user, PAGE, offset=page * PAGE, grouped=True))
            eq.compared += 1
            for name, new in (("single query (OFFSET)", by_offset), ("single query (cursor)", by_cursor),
                              ("plan's shape (GROUP BY)", grouped)):
                why = first_difference(old, new)
                if why:
                    eq.mismatches.append({"conversation": str(cid), "page": page + 1, "pattern": name, "why": why})
            verbatim = [str(r["id"]) for r in service.plan_history_verbatim(conn, cid, user, PAGE, page * PAGE)]
            verbatim_differs += verbatim != [row[0] for row in old]
        eq.notes.append(
            f"the plan's 2.1 query as written (ORDER BY created_at only) returned other messages or another order "
            f"than the old code on {verbatim_differs} of {eq.compared} pages (equal created_at values); the "
            f"benchmark's queries add m.id to ORDER BY (sql/postgres/queries/after_history_*.sql)")
        return eq
