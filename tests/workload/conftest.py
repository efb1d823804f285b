"""Fixtures of the workload tests: probe contexts on real servers, and a copy of sql/ to break."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from dbopt import sqlfiles
from dbopt.paths import SQL_DIR
from dbopt.workload import queries
from dbopt.workload import state as workload_state
from dbopt.workload.probe import Context, Settings


def context(pg_url: str | None, *, redis_url: str | None = None, ch: Any = None, **settings: Any) -> Context:
    """A probe context on real servers, with small samples."""
    r = redis.Redis.from_url(redis_url) if redis_url else None
    conn = psycopg.connect(pg_url) if pg_url else None
    try:
        state = workload_state.detect(pg_conn=conn, pg_safe_url="test", ch=ch, redis_client=r)
    finally:
        if conn is not None:
            conn.close()
    defaults = {"requests": 6, "warmup": 1, "sample_size": 6, "writes": 4, "slow_requests": 2}
    return Context(pg_url, state, Settings(**{**defaults, **settings}), ch=ch, redis=r)


@pytest.fixture
def broken_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Rewrite a file of a copy of sql/ and point the probes at the copy."""
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    monkeypatch.setattr(sqlfiles, "SQL_DIR", copy)
    queries._statement.cache_clear()

    def rewrite(relative: str, old: str, new: str) -> None:
        path = copy / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new))
        queries._statement.cache_clear()

    yield rewrite
    queries._statement.cache_clear()
