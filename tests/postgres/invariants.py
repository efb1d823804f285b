"""The contract's "PostgreSQL after Phase 1", checked with the tests' own SQL (not the
product's checks, so that a bug in both does not hide)."""

from __future__ import annotations

import psycopg

INVARIANTS = {
    "no NULL sequence_number": "SELECT count(*) FROM messages WHERE sequence_number IS NULL",
    "duplicate numbers in a conversation": """
        SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY conversation_id, sequence_number HAVING count(*) > 1) d""",
    "numbers not exactly 1..N (no hard deletes happen in these tests)": """
        SELECT count(*) FROM (SELECT conversation_id FROM messages GROUP BY conversation_id
                              HAVING min(sequence_number) <> 1 OR max(sequence_number) <> count(*)) g""",
    "last_sequence_number <> max(sequence_number), 0 when none": """
        SELECT count(*) FROM conversations c
        WHERE c.last_sequence_number IS DISTINCT FROM
              (SELECT coalesce(max(sequence_number), 0) FROM messages m WHERE m.conversation_id = c.id)""",
    "member_count <> members": """
        SELECT count(*) FROM conversations c
        WHERE c.member_count <> (SELECT count(*) FROM conversation_members cm WHERE cm.conversation_id = c.id)""",
    "last message is not the greatest (created_at, id)": """
        SELECT count(*) FROM conversations c
        LEFT JOIN LATERAL (SELECT id, created_at FROM messages m WHERE m.conversation_id = c.id
                           ORDER BY created_at DESC, id DESC LIMIT 1) lm ON true
        WHERE (c.last_message_id, c.last_message_at) IS DISTINCT FROM (lm.id, lm.created_at)""",
    "content_tsv <> to_tsvector('simple', content)": """
        SELECT count(*) FROM messages WHERE content_tsv IS DISTINCT FROM to_tsvector('simple'::regconfig, content)""",
    "NOT NULL constraint on sequence_number missing": """
        SELECT count(*) FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attname = 'sequence_number'
        AND NOT attnotnull""",
    "unique constraint missing": """
        SELECT 1 - count(*) FROM pg_constraint WHERE conname = 'messages_conversation_sequence_key' AND convalidated""",
}


def violations(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        found = {name: conn.execute(sql).fetchone()[0] for name, sql in INVARIANTS.items()}
    return {k: v for k, v in found.items() if v}


def preexisting_order(url: str) -> dict[str, list[str]]:
    """Message ids per conversation in (created_at, id) order, before the rollout."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT conversation_id::text, id::text FROM messages ORDER BY conversation_id, created_at, id").fetchall()
    out: dict[str, list[str]] = {}
    for conv, mid in rows:
        out.setdefault(conv, []).append(mid)
    return out


def numbering_violations(url: str, before: dict[str, list[str]]) -> list[str]:
    """Rows that existed before are 1..N in (created_at, id) order; later ones follow them."""
    with psycopg.connect(url) as conn:
        numbers = dict(conn.execute("SELECT id::text, sequence_number FROM messages").fetchall())
    bad = []
    for conv, ids in before.items():
        for rank, mid in enumerate(ids, start=1):
            if numbers.get(mid) != rank:
                bad.append(f"{conv}: message {mid} has {numbers.get(mid)}, expected {rank}")
                break
    return bad
