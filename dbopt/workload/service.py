"""The services' code paths, old and new, as the probes and the cache warm-up run them.

Each function is one request of the messaging or content service: the plan's OLD CODE
(COUNT(*) then insert, the subquery fetch, the 3-query history, OFFSET pages, ILIKE
search, three feed queries computed from the CDC tables) or its new code (the trigger's
number read back, the denormalized fetch, the single JSON-aggregating query, keyset
cursors, `content_tsv @@`, the UNION ALL of 2.2). All SQL is in `sql/`.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from dbopt.cursor import Cursor, CursorCodec, default_codec
from dbopt.postgres import plan_queries
from dbopt.workload import queries

# A keyset position before every row: the first page of a keyset query.
FLOOR = Cursor(datetime(1, 1, 1, tzinfo=UTC), uuid.UUID(int=0))
BENCH_CONTENT = "dbopt workload benchmark message"

# --- message send (plan 1.3) ---------------------------------------------------------------
# A benchmark send runs the service's whole send (row lock on the conversation, triggers,
# read back) in a transaction that is then rolled back instead of committed: it is timed
# up to the commit, and leaves no message, no counter change and no last_message_* behind.


def send_old(conn: Any, conversation_id: Any, sender_id: Any, *, rollback: bool = True) -> int:
    """OLD CODE: the number is the conversation's COUNT(*), read before the insert.

    Rolled back unless `rollback=False` (then the caller's own transaction decides): a
    benchmark must leave the conversation as it found it, counters included."""
    with conn.transaction(force_rollback=rollback):
        count = queries.pg(conn, "before_send_count", {"conversation_id": conversation_id})[0]["count"]
        queries.pg(conn, "send_insert", {"id": uuid.uuid4(), "conversation_id": conversation_id,
                                         "sender_id": sender_id, "content": BENCH_CONTENT})
    return int(count) + 1


def send_new(conn: Any, conversation_id: Any, sender_id: Any, *, rollback: bool = True) -> int:
    """NEW CODE: insert (the trigger numbers the row), then read the number back; rolled
    back like `send_old` (the triggers' counter and last_message_* updates with it)."""
    message_id = uuid.uuid4()
    with conn.transaction(force_rollback=rollback):
        queries.pg(conn, "send_insert", {"id": message_id, "conversation_id": conversation_id,
                                         "sender_id": sender_id, "content": BENCH_CONTENT})
        row = queries.pg(conn, "plan_1_3_message_send", {"message_id": message_id})[0]
    return int(row["sequence_number"])


# --- conversation fetch (plan 1.3) ---------------------------------------------------------


def fetch_conversation_old(conn: Any, conversation_id: Any) -> dict[str, Any]:
    return queries.pg(conn, "before_conversation_fetch", {"conversation_id": conversation_id})[0]


def fetch_conversation_new(conn: Any, conversation_id: Any) -> dict[str, Any] | None:
    rows = queries.pg(conn, "plan_1_3_conversation_fetch", {"conversation_id": conversation_id})
    return rows[0] if rows else None


# --- message history (plan 2.1) ------------------------------------------------------------


def history_old(conn: Any, conversation_id: Any, user_id: Any, limit: int, offset: int) -> list[dict[str, Any]]:
    """Before 2.1: the page, then its reactions, then its attachments (3 round trips)."""
    messages = queries.pg(conn, "before_history_messages",
                          {"conversation_id": conversation_id, "limit": limit, "offset": offset})
    ids = [m["id"] for m in messages]
    reactions = queries.pg(conn, "before_history_reactions", {"message_ids": ids, "user_id": user_id})
    attachments = queries.pg(conn, "before_history_attachments", {"message_ids": ids})
    by_message: dict[Any, dict[str, list]] = {i: {"reactions": [], "attachments": []} for i in ids}
    for r in reactions:
        by_message[r["message_id"]]["reactions"].append(
            {"emoji": r["emoji"], "count": r["reaction_count"], "user_reacted": r["user_reacted"]})
    for a in attachments:
        by_message[a.pop("message_id")]["attachments"].append(a)
    return [{**m, "reactions_json": by_message[m["id"]]["reactions"],
             "attachments_json": by_message[m["id"]]["attachments"]} for m in messages]


def history_page(conn: Any, conversation_id: Any, user_id: Any, limit: int, *, offset: int = 0,
                 after: Cursor | None = None, grouped: bool = False) -> list[dict[str, Any]]:
    """One JSON-aggregating query, the page selected first: by OFFSET (Phase 2) or after a
    cursor (Phase 3). `grouped`: the plan's 2.1 shape, which aggregates the whole
    conversation before its LIMIT."""
    after = after or FLOOR
    return queries.pg(conn, "plan_2_1_message_history" if grouped else "after_history_paged", {
        "conversation_id": conversation_id, "user_id": user_id, "after_created_at": after.created_at,
        "after_id": after.id, "limit": limit, "offset": offset}, render=plan_queries.STABLE_PAGES if grouped else None)


def plan_history_verbatim(conn: Any, conversation_id: Any, user_id: Any, limit: int, offset: int) -> list[dict]:
    """The plan's 2.1 query exactly as written (ORDER BY created_at only)."""
    return queries.pg(conn, "plan_2_1_message_history",
                      {"conversation_id": conversation_id, "user_id": user_id, "limit": limit, "offset": offset})


# --- pagination (plan 3) -------------------------------------------------------------------


def messages_offset(conn: Any, conversation_id: Any, limit: int, offset: int) -> list[dict[str, Any]]:
    return queries.pg(conn, "before_messages_offset",
                      {"conversation_id": conversation_id, "limit": limit, "offset": offset})


def messages_cursor(conn: Any, conversation_id: Any, limit: int, after: Cursor | None) -> list[dict[str, Any]]:
    """Plan 3.2: the first page, or the page after a cursor."""
    if after is None:
        return queries.pg(conn, "plan_3_2_messages_cursor_first_page",
                          {"conversation_id": conversation_id, "limit": limit})
    return queries.pg(conn, "plan_3_2_messages_cursor_next_page", {
        "conversation_id": conversation_id, "cursor_created_at": after.created_at, "cursor_id": after.id,
        "limit": limit})


def posts_offset(conn: Any, user_id: Any, limit: int, offset: int) -> list[dict[str, Any]]:
    return queries.pg(conn, "before_posts_offset", {"user_id": user_id, "limit": limit, "offset": offset})


def posts_cursor(conn: Any, user_id: Any, limit: int, before: Cursor | None) -> list[dict[str, Any]]:
    """Plan 3.1, unchanged (a NULL cursor is the first page)."""
    return queries.pg(conn, "plan_3_1_posts_cursor", {
        "user_id": user_id, "cursor_created_at": before.created_at if before else None,
        "cursor_id": before.id if before else None, "limit": limit})


def next_cursor(rows: list[dict[str, Any]], scope: str, codec: CursorCodec | None = None) -> str | None:
    """The cursor a page hands to the client: after its last row (None on an empty page)."""
    if not rows:
        return None
    last = rows[-1]
    return (codec or default_codec()).encode(last["created_at"], last["id"], scope)


def decode(token: str | None, scope: str, codec: CursorCodec | None = None) -> Cursor | None:
    return (codec or default_codec()).decode(token, scope) if token else None


# --- search (plan 1.1) ---------------------------------------------------------------------


def search_old(conn: Any, conversation_id: Any, term: str, limit: int | None) -> list[dict[str, Any]]:
    return queries.pg(conn, "before_search_ilike", {"conversation_id": conversation_id, "query": term, "limit": limit})


def search_new(conn: Any, conversation_id: Any, term: str, limit: int | None, ts_config: str) -> list[dict[str, Any]]:
    return queries.pg(conn, "message_search", {"conversation_id": conversation_id, "query": term, "limit": limit},
                      render={"ts_config": ts_config})


# --- posts (plan 4.2) ----------------------------------------------------------------------


def post_by_id(conn: Any, post_id: Any) -> dict[str, Any] | None:
    rows = queries.pg(conn, "post_by_id", {"post_id": post_id})
    return rows[0] if rows else None


# --- feed (plan 1.2, 2.2) ------------------------------------------------------------------

FEED_SOURCES = ("followees", "trending", "affinity")


def feed_params(user_id: str, limit: int, as_of: datetime) -> dict[str, Any]:
    from dbopt.clickhouse.candidates import Scoring

    params = Scoring().params(as_of, [user_id])
    params.update(user_id=user_id, limit=limit, all_authors=0)
    return params


@functools.lru_cache(maxsize=1)
def _feed_fragments() -> dict[str, str]:
    from dbopt import sqlfiles

    fragments = {name: sqlfiles.read(f"{queries.CH}/before_feed_{name}.fragment.sql").rstrip()
                 for name in ("followed", "affinity")}
    # The posts of the window as the candidate build defines them, computed per request.
    fragments["window_posts"] = sqlfiles.read("clickhouse/phase1/feed_candidates/020_window_posts.fragment.sql").rstrip()
    return fragments


def feed_old(ch: Any, user_id: str, limit: int, as_of: datetime) -> list[dict[str, Any]]:
    """Before 1.2: three candidate queries computed from the CDC tables, one after another."""
    params = feed_params(user_id, limit, as_of)
    rows: list[dict[str, Any]] = []
    fragments = _feed_fragments()
    for source in FEED_SOURCES:
        p = dict(params, all_authors=1 if source == "trending" else 0)
        rows += queries.ch(ch, f"before_feed_{source}", p, render=fragments)
    return rows


def feed_split(ch: Any, user_id: str, limit: int) -> list[dict[str, Any]]:
    """After 1.2, before 2.2: three queries against the candidate tables (3 round trips)."""
    rows: list[dict[str, Any]] = []
    for source in FEED_SOURCES:
        rows += queries.ch(ch, f"split_feed_{source}", {"user_id": user_id, "limit": limit})
    return rows


def feed_union(ch: Any, user_id: str, limit: int) -> list[dict[str, Any]]:
    """Plan 2.2's UNION ALL, verbatim."""
    from dbopt.clickhouse.candidates import feed_for

    return feed_for(ch, user_id, limit)
