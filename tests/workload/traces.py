"""What the application sees of its databases, to show that a benchmark left no trace.

- PostgreSQL: an md5 over the ordered rows of every application table (schema `public`;
  the conversations' counters are columns, so they are in it).
- Redis: every key with its value (DUMP).
- ClickHouse: rows and an order-independent hash of every table of the database.

And a watch on strict_e2e conversations: a trigger that counts, in a sequence (which a
rollback does not undo), every insert attempted into one of them.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def pg_digest(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")]
        assert {"conversations", "messages", "conversation_members"} <= set(tables), tables
        return {t: conn.execute(sql.SQL(
            "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} AS t"
        ).format(sql.Identifier(t))).fetchone()[0] for t in tables}


def redis_snapshot(client: Any) -> dict[bytes, bytes]:
    return {k: client.dump(k) for k in client.scan_iter(count=1000)}


def ch_digest(ch: Any) -> dict[str, tuple[int, int]]:
    tables = [r[0] for r in ch.rows(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine NOT IN ('View', 'MaterializedView') ORDER BY name")]
    assert tables
    return {t: tuple(ch.rows(f"SELECT count(), sum(cityHash64(*)) FROM `{t}`")[0]) for t in tables}


def guard_strict_e2e(url: str, conversations: int = 2) -> list[str]:
    """Make the largest conversation and the one closest to 1,000 messages (those the send
    benchmark used to pick) strict_e2e, and count every insert attempted into any strict_e2e
    conversation. Returns the ids made strict_e2e."""
    with psycopg.connect(url, autocommit=True) as conn:
        sizes = conn.execute(
            "SELECT conversation_id, count(*) AS n FROM messages GROUP BY conversation_id").fetchall()
        largest = max(sizes, key=lambda r: (r[1], r[0]))
        k1 = min((r for r in sizes if r != largest), key=lambda r: (abs(r[1] - 1000), r[0]))
        ids = [largest[0], k1[0]][:conversations]
        conn.execute("UPDATE conversations SET privacy_mode = 'strict_e2e' WHERE id = ANY(%s)", (ids,))
        conn.execute("CREATE SCHEMA test_guard")
        conn.execute("CREATE SEQUENCE test_guard.strict_e2e_inserts")
        conn.execute("""
            CREATE FUNCTION test_guard.count_strict_e2e_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT privacy_mode FROM public.conversations WHERE id = NEW.conversation_id) = 'strict_e2e' THEN
                    PERFORM nextval('test_guard.strict_e2e_inserts');
                END IF;
                RETURN NEW;
            END $$""")
        conn.execute("CREATE TRIGGER test_guard_strict_e2e BEFORE INSERT ON messages "
                     "FOR EACH ROW EXECUTE FUNCTION test_guard.count_strict_e2e_insert()")
    return [str(i) for i in ids]


def strict_e2e_inserts(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        last, called = conn.execute("SELECT last_value, is_called FROM test_guard.strict_e2e_inserts").fetchone()
        return int(last) if called else 0
