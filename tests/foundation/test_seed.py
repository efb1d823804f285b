"""The generator makes the shapes the rollout must cope with."""

from __future__ import annotations

import psycopg
import pytest

from dbopt.errors import DboptError
from dbopt.postgres.connect import PgConnector
from dbopt.seed import seed
from dbopt.seed.scales import SCALES, scale_for


def test_scales_have_a_hot_conversation_and_a_1k_one() -> None:
    for scale in SCALES.values():
        sizes = scale.conversation_sizes()
        assert sum(sizes) == scale.messages
        assert len(sizes) == scale.conversations
        assert sizes[0] == scale.hot_messages == max(sizes)
    medium = SCALES["medium"].conversation_sizes()
    assert medium[1] == 1000 and medium[0] == 200_000


def test_seed_postgres_and_clickhouse_shapes(pg_url, ch) -> None:
    report = seed(PgConnector(pg_url), ch, scale_for("tiny"), progress=lambda _: None)
    assert report.postgres["messages"] == 6000
    with psycopg.connect(pg_url) as conn:
        shared = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY conversation_id, created_at HAVING count(*) > 1) x"
        ).fetchone()[0]
        assert shared > 100, "many messages must share a created_at"
        e2e = conn.execute(
            "SELECT count(*) FILTER (WHERE m.content <> ''), count(*) FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id WHERE c.privacy_mode = 'strict_e2e'"
        ).fetchone()
        assert e2e[0] == 0 and e2e[1] > 0
        flags = conn.execute(
            "SELECT count(recalled_at), count(deleted_at), count(*) FILTER (WHERE version_number > 1) FROM messages"
        ).fetchone()
        assert all(n > 0 for n in flags)
        assert conn.execute("SELECT count(*) FROM posts WHERE soft_delete IS NOT NULL").fetchone()[0] > 0
    ops = dict(ch.rows("SELECT toString(op), count() FROM likes_cdc GROUP BY op"))
    assert ops.get("d", 0) > 0 and ops["c"] > ops["d"]
    months = ch.scalar("SELECT uniqExact(toYYYYMM(event_ts)) FROM likes_cdc")
    assert months >= 13
    old_follows = ch.scalar("SELECT count() FROM follows_cdc WHERE event_ts < now() - INTERVAL 3 YEAR AND op = 'c'")
    assert old_follows > 0
    for table in ("posts_cdc", "comments_cdc", "shares_cdc", "follows_cdc"):
        assert ch.scalar(f"SELECT count() FROM {table} WHERE op != 'c'") > 0, table
    # The same posts on both sides.
    with psycopg.connect(pg_url) as conn:
        pid, author = conn.execute("SELECT id::text, user_id::text FROM posts ORDER BY id LIMIT 1").fetchone()
    assert ch.scalar("SELECT toString(author_id) FROM posts_cdc WHERE post_id = {p:UUID} AND op = 'c'", {"p": pid}) == author


def test_seed_refuses_to_overwrite_data(seeded_pg_url) -> None:
    with pytest.raises(DboptError, match="already holds data; pass --reset"):
        seed(PgConnector(seeded_pg_url), None, scale_for("tiny"), progress=lambda _: None)
