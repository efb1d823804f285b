"""Phase 1.1/1.3 probes: message send, conversation fetch, message search."""

from __future__ import annotations

import re
from typing import Any

from dbopt.seed.words import SEARCH_TERMS
from dbopt.workload import queries, samples, service
from dbopt.workload.probe import Context, Equivalence, Pattern, Probe, cycle, zipf
from dbopt.workload.samples import Conversation

Q = queries.PG


class MessageSendProbe(Probe):
    """Sends real messages into the conversation of ~1 000 messages and the largest one."""

    metrics = ("message_send_1k", "message_send_large")

    def prepare(self, ctx: Context) -> None:
        convs = samples.conversations(ctx.pg)
        self.large = samples.largest(convs)
        self.k1 = samples.closest(convs, 1000, exclude=self.large)
        rng = ctx.rng("send")
        others = [c for c in convs if c not in (self.large, self.k1) and c.messages]
        self.others = rng.sample(others, min(len(others), ctx.settings.sample_size))

    def target(self, metric: str) -> Conversation | None:
        return self.k1 if metric == "message_send_1k" else self.large

    def describe(self, metric: str) -> str:
        c = self.target(metric)
        return f"conversation {c.id} ({c.messages:,} messages)" if c else "no conversation"

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        def old(s, c: Conversation) -> int:
            return service.send_old(s.pg, c.id, c.reader)

        def new(s, c: Conversation) -> int:
            return service.send_new(s.pg, c.id, c.reader)

        def new_invalidate(s, c: Conversation) -> int:
            seq = service.send_new(s.pg, c.id, c.reader)
            s.cache.on_new_message(c.id)  # plan 4.3: conversations and history, on new message
            return seq

        return {
            "count_then_insert": Pattern("count_then_insert", "COUNT(*) then INSERT (plan 1.3 OLD CODE)", old,
                                         sql=(f"{Q}/before_send_count.sql", f"{Q}/send_insert.sql"), writes=True),
            "trigger_insert": Pattern("trigger_insert", "INSERT, trigger numbers it, read back (1.3 NEW CODE)", new,
                                      needs=("pg.sequence_number",),
                                      sql=(f"{Q}/send_insert.sql", f"{Q}/plan_1_3_message_send.sql"), writes=True),
            "insert_invalidate": Pattern("insert_invalidate", "1.3 NEW CODE + cache invalidation (plan 4.3)",
                                         new_invalidate, needs=("pg.sequence_number", "redis"),
                                         sql=(f"{Q}/send_insert.sql", f"{Q}/plan_1_3_message_send.sql"), writes=True),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        c = self.target(metric)
        return [c] * ctx.settings.writes if c else []

    def equivalence(self, ctx: Context) -> Equivalence:
        """In a transaction that is rolled back: insert, read the trigger's number, and count
        the conversation's messages (what the old code would have answered)."""
        eq = Equivalence()
        if not ctx.state.has("pg.sequence_number"):
            eq.skipped = "Phase 1.1 not applied: only the old code runs here"
            return eq
        conn = ctx.pg
        for c in [x for x in (self.k1, self.large, *self.others) if x]:
            with conn.transaction(force_rollback=True):
                before = queries.pg(conn, "before_send_count", {"conversation_id": c.id})[0]["count"]
                new = service.send_new(conn, c.id, c.reader, rollback=False)
                used = queries.pg(conn, "workload_sequence_taken",
                                  {"conversation_id": c.id, "sequence_number": before + 1})
            eq.compared += 1
            row = {"conversation": str(c.id), "old_answer": before + 1, "new_answer": new}
            if new == before + 1:
                continue
            if new > before + 1 and used:
                eq.explained.append({**row, "why": f"gaps: COUNT(*)+1 = {before + 1} is already message "
                                                   f"{used[0]['id']}'s number (the old code would reuse it)"})
            else:
                eq.mismatches.append({**row, "why": "the trigger's number is not the next one"})
        return eq


class ConversationFetchProbe(Probe):
    metrics = ("conversation_fetch",)

    def prepare(self, ctx: Context) -> None:
        convs = samples.conversations(ctx.pg)
        rng = ctx.rng("fetch")
        sample = rng.sample(convs, min(len(convs), ctx.settings.sample_size))
        large = samples.largest(convs)
        self.sample = [c.id for c in ([large] if large else []) + [c for c in sample if c != large]]

    def describe(self, metric: str) -> str:
        return f"{len(self.sample)} conversations (random, and the largest)"

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        def cached(s, cid) -> Any:
            return s.cache.cached("conversation", s.cache.keys.conversation(cid),
                                  lambda: service.fetch_conversation_new(s.pg, cid))

        return {
            "subqueries": Pattern("subqueries", "member COUNT and last-message subqueries (1.3 OLD CODE)",
                                  lambda s, cid: service.fetch_conversation_old(s.pg, cid),
                                  sql=(f"{Q}/before_conversation_fetch.sql",)),
            "denormalized": Pattern("denormalized", "one row of conversations (1.3 NEW CODE)",
                                    lambda s, cid: service.fetch_conversation_new(s.pg, cid),
                                    needs=("pg.counters",), sql=(f"{Q}/plan_1_3_conversation_fetch.sql",)),
            "denormalized_cached": Pattern("denormalized_cached", "1.3 NEW CODE behind the cache (TTL 2 min)", cached,
                                           needs=("pg.counters", "redis"),
                                           sql=(f"{Q}/plan_1_3_conversation_fetch.sql",), cached=True),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        if pattern.cached:
            return zipf(self.sample, ctx.settings.requests, ctx.settings.zipf_s, ctx.rng("fetch-zipf"))
        return cycle(self.sample, ctx.settings.requests)

    def equivalence(self, ctx: Context) -> Equivalence:
        """Member count equal; the last message the same, or one with the same created_at
        (the old subquery orders by created_at alone, so among equal timestamps any is "last")."""
        eq = Equivalence()
        if not ctx.state.has("pg.counters"):
            eq.skipped = "Phase 1.1 not applied: only the old code runs here"
            return eq
        conn = ctx.pg
        for cid in self.sample:
            old = service.fetch_conversation_old(conn, cid)
            new = service.fetch_conversation_new(conn, cid) or {}
            eq.compared += 1
            row = {"conversation": str(cid), "old": f"{old['member_count']} members, last {old['last_message_id']}",
                   "new": f"{new.get('member_count')} members, last {new.get('last_message_id')}"}
            if old["member_count"] != new.get("member_count"):
                eq.mismatches.append({**row, "why": "member_count differs"})
            elif old["last_message_id"] != new.get("last_message_id"):
                times = {r["id"]: r["created_at"] for r in queries.pg(
                    conn, "workload_message_times", {"ids": [old["last_message_id"], new.get("last_message_id")]})}
                if old["last_message_id"] in times and times.get(old["last_message_id"]) == times.get(
                        new.get("last_message_id")):
                    eq.explained.append({**row, "why": "two last messages share created_at; the new one takes the "
                                                       "greatest id, the old subquery any of them"})
                else:
                    eq.mismatches.append({**row, "why": "last_message_id is not a latest message"})
        return eq


def whole_word(term: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text or "", re.I) is not None


class MessageSearchProbe(Probe):
    """The largest conversation (where ILIKE reads the most) and random ones, apart."""

    metrics = ("message_search", "message_search_random")
    limit = 20

    def __init__(self, terms: tuple[str, ...] = SEARCH_TERMS) -> None:
        self.terms = terms

    def prepare(self, ctx: Context) -> None:
        convs = [c for c in samples.conversations(ctx.pg) if c.listed]
        rng = ctx.rng("search")
        large = samples.largest(convs)
        sample = rng.sample(convs, min(len(convs), max(1, ctx.settings.sample_size // 2)))
        self.convs = ([large] if large else []) + [c for c in sample if c != large]
        self.sample = [(c.id, t) for c in self.convs for t in self.terms]

    def describe(self, metric: str) -> str:
        terms = ", ".join(self.terms)
        if metric == "message_search":
            return f"the largest conversation ({self.convs[0].listed:,} messages), terms {terms}" if self.convs else "-"
        return f"{len(self.convs) - 1} random conversations x terms {terms}"

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        ts = ctx.settings.ts_config
        return {
            "ilike": Pattern("ilike", "content ILIKE '%term%' (before 1.1)",
                             lambda s, r: service.search_old(s.pg, r[0], r[1], self.limit),
                             sql=(f"{Q}/before_search_ilike.sql",)),
            "tsvector": Pattern("tsvector", "content_tsv @@ plainto_tsquery (1.1, GIN index)",
                                lambda s, r: service.search_new(s.pg, r[0], r[1], self.limit, ts),
                                needs=("pg.content_tsv",), sql=(f"{Q}/message_search.sql",)),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        largest = self.convs[0].id if self.convs else None
        mine = [r for r in self.sample if (r[0] == largest) == (metric == "message_search")]
        return cycle(mine, ctx.settings.requests)

    def equivalence(self, ctx: Context) -> Equivalence:
        """Every match of either query, unlimited. Allowed differences are the two semantics:
        ILIKE also matches the term inside a longer word; text search matches words (and,
        with a stemming configuration, their other forms). Anything else (a whole-word match
        that text search misses: a stale content_tsv) is a mismatch."""
        eq = Equivalence()
        if not ctx.state.has("pg.content_tsv"):
            eq.skipped = "Phase 1.1 not applied: only the old code runs here"
            return eq
        conn = ctx.pg
        for cid, term in self.sample:
            old = {r["id"]: r for r in service.search_old(conn, cid, term, None)}
            new = {r["id"]: r for r in service.search_new(conn, cid, term, None, ctx.settings.ts_config)}
            eq.compared += 1
            for mid in old.keys() - new.keys():
                row = {"conversation": str(cid), "term": term, "message": str(mid), "content": old[mid]["content"][:60]}
                if whole_word(term, old[mid]["content"]):
                    eq.mismatches.append({**row, "why": "a whole-word match that content_tsv @@ misses"})
                else:
                    eq.explained.append({**row, "why": "ILIKE matched inside a longer word"})
            for mid in new.keys() - old.keys():
                row = {"conversation": str(cid), "term": term, "message": str(mid), "content": new[mid]["content"][:60]}
                if term.lower() in (new[mid]["content"] or "").lower():
                    eq.mismatches.append({**row, "why": "contains the term but ILIKE did not return it"})
                else:
                    eq.explained.append({**row, "why": "text search matched another form of the word"})
        return eq
