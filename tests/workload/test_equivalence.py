"""The new code's answers against the old code's, on a database after Phase 1: equal on the
seeded data, and a deliberately broken "after" query (or stale Phase 1 data) is caught."""

from __future__ import annotations

import psycopg
import pytest

from dbopt.workload.history import MessageHistoryProbe
from dbopt.workload.hot import HotReadsProbe
from dbopt.workload.messaging import ConversationFetchProbe, MessageSearchProbe, MessageSendProbe
from dbopt.workload.pagination import PaginationProbe
from tests.workload.conftest import context

Q = "postgres/queries"


def compare(probe, ctx):
    try:
        probe.prepare(ctx)
        return probe.equivalence(ctx)
    finally:
        ctx.close()


def test_every_new_pattern_gives_the_old_answers(phase1_pg_url: str, redis_url: str) -> None:
    probes = [MessageSendProbe(), ConversationFetchProbe(), MessageSearchProbe(), MessageHistoryProbe(),
              PaginationProbe(equivalence_pages=12), HotReadsProbe(conversations=4, posts=4)]
    for probe in probes:
        eq = compare(probe, context(phase1_pg_url, redis_url=redis_url))
        assert not eq.skipped, type(probe).__name__
        assert eq.compared > 0 and eq.passed, (type(probe).__name__, eq.mismatches[:3])
    # The comparisons that send ran in rolled-back transactions: nothing was written.
    with psycopg.connect(phase1_pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE content LIKE 'dbopt workload%'").fetchone()[0] == 0


def test_before_phase1_nothing_is_compared(seeded_pg_url: str) -> None:
    eq = compare(MessageHistoryProbe(), context(seeded_pg_url))
    assert eq.skipped and eq.compared == 0 and eq.passed


@pytest.mark.parametrize("relative, old, new, probe", [
    # History: the reading user's reactions inverted.
    (f"{Q}/after_history_paged.sql", "BOOL_OR(user_id = $2)", "BOOL_OR(user_id <> $2)", MessageHistoryProbe),
    # History: recalled messages no longer hidden.
    (f"{Q}/after_history_paged.sql", "      AND recalled_at IS NULL\n", "\n", MessageHistoryProbe),
    # Pagination: >= instead of > repeats the cursor's row on the next page.
    (f"{Q}/plan_3_2_messages_cursor_next_page.sql", "(created_at, id) > ($2, $3)", "(created_at, id) >= ($2, $3)",
     PaginationProbe),
    # Pagination: a cursor without the id skips the rest of a run of equal created_at.
    (f"{Q}/plan_3_2_messages_cursor_next_page.sql", "(created_at, id) > ($2, $3)", "created_at > $2 AND $3::uuid IS NOT NULL",
     PaginationProbe),
], ids=["reactions", "recalled", "repeats", "skips-ties"])
def test_a_broken_after_query_is_caught(phase1_pg_url: str, broken_sql, relative, old, new, probe) -> None:
    broken_sql(relative, old, new)
    kwargs = {"equivalence_pages": 12} if probe is PaginationProbe else {}
    eq = compare(probe(**kwargs), context(phase1_pg_url))
    assert not eq.passed and eq.mismatches


def test_stale_phase1_data_is_caught(phase1_pg_url: str) -> None:
    """The new code reads what Phase 1 maintains; a counter or content_tsv gone stale is a
    changed answer."""
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        conn.execute("UPDATE conversations SET member_count = member_count + 1")
        conn.execute("ALTER TABLE messages DISABLE TRIGGER messages_content_tsv")
        conn.execute("UPDATE messages SET content = content || ' quillomir' WHERE content <> ''")
        conn.execute("ALTER TABLE messages ENABLE TRIGGER messages_content_tsv")
    fetch = compare(ConversationFetchProbe(), context(phase1_pg_url))
    assert not fetch.passed and all(m["why"] == "member_count differs" for m in fetch.mismatches)
    search = compare(MessageSearchProbe(terms=("quillomir",)), context(phase1_pg_url))
    assert not search.passed
    assert {m["why"] for m in search.mismatches} == {"a whole-word match that content_tsv @@ misses"}
