"""The embedded servers are real, start once and are reused."""

from __future__ import annotations

import psycopg
import redis


def test_embedded_postgres_runs_with_pg_stat_statements(embedded_pg) -> None:
    url = embedded_pg.ensure_running()
    again = embedded_pg.ensure_running()
    assert url == again
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW shared_preload_libraries").fetchone()[0] == "pg_stat_statements"
        conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 130000


def test_embedded_redis_is_a_real_server(embedded_redis) -> None:
    url = embedded_redis.ensure_running()
    client = redis.Redis.from_url(url)
    client.set("k", "v", ex=10)
    assert client.get("k") == b"v"
    assert client.info("server")["redis_version"]
