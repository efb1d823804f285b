"""Is this database the contract's baseline? Which tables, how many rows."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from dbopt.errors import BaselineMissing
from dbopt.secrets import redact_url

BASELINE_TABLES = (
    "conversations",
    "conversation_members",
    "messages",
    "message_reactions",
    "message_attachments",
    "posts",
)
SCHEMA = "public"


@dataclass(frozen=True)
class BaselineState:
    present: tuple[str, ...]
    missing: tuple[str, ...]
    estimated_rows: dict[str, int]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def has_rows(self) -> bool:
        return any(n > 0 for n in self.estimated_rows.values())


def inspect(conn: psycopg.Connection) -> BaselineState:
    rows = conn.execute(
        """
        SELECT c.relname, GREATEST(c.reltuples, 0)::bigint AS est
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)
        """,
        (SCHEMA, list(BASELINE_TABLES)),
    ).fetchall()
    present = {r[0]: int(r[1]) for r in rows}
    # reltuples is -1/0 before the first ANALYZE; look for one row to be sure.
    for table in present:
        if present[table] == 0:
            hit = conn.execute(f'SELECT 1 FROM {SCHEMA}."{table}" LIMIT 1').fetchone()
            present[table] = 1 if hit else 0
    missing = tuple(t for t in BASELINE_TABLES if t not in present)
    return BaselineState(tuple(t for t in BASELINE_TABLES if t in present), missing, present)


def require(conn: psycopg.Connection, url: str) -> BaselineState:
    """The baseline state, or one sentence saying what is missing and what to do."""
    state = inspect(conn)
    if state.missing:
        raise BaselineMissing(
            f"The database at {redact_url(url)} lacks the baseline tables ({', '.join(state.missing)}); "
            f"point DATABASE_URL at the application's database, or run `dbopt seed` to create a demo one."
        )
    return state
