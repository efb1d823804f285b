"""Helpers for the PostgreSQL tests: run a job in-process, read the rollout's invariants."""

from __future__ import annotations

from typing import Any

import dagster as dg
import psycopg
import pytest

from dbopt.postgres.connect import PgConnector


def run_job(url: str, name: str, run_config: dict[str, Any] | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    return defs.resolve_job_def(name).execute_in_process(
        resources={"postgres": PostgresResource(database_url=url)},
        run_config=run_config or {},
        raise_on_error=False,
        **kwargs,
    )


def all_resources(url: str) -> dict[str, Any]:
    """Every resource the code location's assets need; only PostgreSQL is used by these tests,
    and the others open nothing unless an asset of their system runs."""
    from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource

    return {"postgres": PostgresResource(database_url=url), "clickhouse": ClickHouseResource(), "redis": RedisResource()}


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        data = event.event_specific_data
        if event.is_failure and getattr(data, "error", None):
            out.append(data.error.message)
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not data.passed:
            out.append(f"check {data.check_name} failed")
    return out


@pytest.fixture
def connector(seeded_pg_url: str):
    c = PgConnector(seeded_pg_url)
    yield c
    c.close()


def app_snapshot(url: str) -> dict[str, str]:
    """A digest of every baseline row, to prove a step touched no application data."""
    queries = {
        "conversations": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM (SELECT id, privacy_mode, created_at, updated_at FROM conversations) t",
        "conversation_members": "SELECT md5(string_agg(t::text, '|' ORDER BY conversation_id, user_id)) FROM conversation_members t",
        "messages": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM (SELECT id, conversation_id, sender_id, content, content_encrypted, content_nonce, message_type, version_number, created_at, updated_at, recalled_at, deleted_at FROM messages) t",
        "message_reactions": "SELECT md5(string_agg(t::text, '|' ORDER BY message_id, user_id, emoji)) FROM message_reactions t",
        "message_attachments": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM message_attachments t",
        "posts": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM posts t",
    }
    with psycopg.connect(url) as conn:
        return {name: conn.execute(q).fetchone()[0] for name, q in queries.items()}
