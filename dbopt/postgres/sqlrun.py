"""Run SQL files from `sql/` on a psycopg connection, with named values for `$n`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from dbopt import sqlfiles


def execute(conn: psycopg.Connection, statement: str, names: list[str], values: Mapping[str, Any]) -> psycopg.RawCursor:
    """Execute one statement with PostgreSQL's native placeholders."""
    cur = psycopg.RawCursor(conn)
    args = sqlfiles.positional(statement, names, values)
    cur.execute(statement, args if args else None)
    return cur


def run_file(
    conn: psycopg.Connection,
    relative: str,
    values: Mapping[str, Any] | None = None,
    render: Mapping[str, str] | None = None,
) -> list[int]:
    """Run every statement of `sql/<relative>` in order; returns each statement's row count."""
    text = sqlfiles.load(relative, render)
    names = sqlfiles.param_names(text)
    counts = []
    for stmt in sqlfiles.split(text):
        cur = execute(conn, stmt, names, values or {})
        counts.append(cur.rowcount)
    return counts


def query_file(
    conn: psycopg.Connection,
    relative: str,
    values: Mapping[str, Any] | None = None,
    render: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Run a one-statement file and return its rows as dicts."""
    text = sqlfiles.load(relative, render)
    names = sqlfiles.param_names(text)
    statements = sqlfiles.split(text)
    if len(statements) != 1:
        raise ValueError(f"sql/{relative} must hold exactly one statement to be queried")
    cur = execute(conn, statements[0], names, values or {})
    if cur.description is None:
        return []
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
