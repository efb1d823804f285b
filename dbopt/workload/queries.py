"""The probes' SQL, read from `sql/` once per process and run by name.

PostgreSQL files use `$n` placeholders named by their `-- params:` header (run through
`dbopt.postgres.sqlrun`); ClickHouse files use `{name:Type}` parameters. Loading once
keeps file reads out of the timed requests.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import psycopg

from dbopt import sqlfiles
from dbopt.postgres import sqlrun

PG = "postgres/queries"
CH = "clickhouse/queries"


@functools.lru_cache(maxsize=256)
def _statement(relative: str, render: tuple[tuple[str, str], ...]) -> tuple[str, tuple[str, ...]]:
    text = sqlfiles.load(relative, dict(render))
    statements = sqlfiles.split(text, backslash_escapes=relative.startswith("clickhouse/"))
    if len(statements) != 1:
        raise ValueError(f"sql/{relative} must hold exactly one statement")
    return statements[0], tuple(sqlfiles.param_names(text))


def statement(relative: str, render: Mapping[str, str] | None = None) -> str:
    return _statement(relative, tuple(sorted((render or {}).items())))[0]


def pg(conn: psycopg.Connection, name: str, values: Mapping[str, Any] | None = None,
       render: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows of `sql/postgres/queries/<name>.sql` as dicts."""
    stmt, names = _statement(f"{PG}/{name}.sql", tuple(sorted((render or {}).items())))
    cur = sqlrun.execute(conn, stmt, list(names), values or {})
    if cur.description is None:
        return []
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def ch(client: Any, name: str, params: Mapping[str, Any] | None = None,
       render: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows of `sql/clickhouse/queries/<name>.sql` as dicts."""
    return client.dicts(statement(f"{CH}/{name}.sql", render), dict(params or {}))
