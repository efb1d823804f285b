"""The migration ledger: which step ran, with which SQL, when, in which run, and how it ended.

`dbopt status` and the UI read it to say where each database stands; the runner reads it
to skip what is applied and to refuse a step whose SQL changed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from dbopt.postgres.sqlrun import run_file


@dataclass(frozen=True)
class LedgerEntry:
    step: str
    checksum: str
    outcome: str
    run_id: str | None
    started_at: datetime
    finished_at: datetime | None
    detail: str | None


def ensure(conn: psycopg.Connection) -> None:
    """Create dbopt's schema and tables if missing (new objects only: nothing waits on them)."""
    exists = conn.execute(
        "SELECT to_regclass('dbopt.migration_ledger') IS NOT NULL AND to_regclass('dbopt.backfill_progress') IS NOT NULL "
        "AND to_regclass('dbopt.baseline_fingerprint') IS NOT NULL"
    ).fetchone()[0]
    if not exists:
        run_file(conn, "postgres/dbopt/ledger.sql")
        if not conn.autocommit:
            conn.commit()


def installed(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT to_regclass('dbopt.migration_ledger') IS NOT NULL").fetchone()[0])


def latest(conn: psycopg.Connection, step: str) -> LedgerEntry | None:
    row = conn.execute(
        "SELECT step, checksum, outcome, run_id, started_at, finished_at, detail FROM dbopt.migration_ledger "
        "WHERE step = %s ORDER BY id DESC LIMIT 1",
        (step,),
    ).fetchone()
    return LedgerEntry(*row) if row else None


def latest_applied(conn: psycopg.Connection, step: str) -> LedgerEntry | None:
    """The step's last outcome that matters for re-running: applied, or undone by a rollback."""
    row = conn.execute(
        "SELECT step, checksum, outcome, run_id, started_at, finished_at, detail FROM dbopt.migration_ledger "
        "WHERE step = %s AND outcome IN ('applied', 'rolled_back') ORDER BY id DESC LIMIT 1",
        (step,),
    ).fetchone()
    entry = LedgerEntry(*row) if row else None
    return entry if entry and entry.outcome == "applied" else None


def start(conn: psycopg.Connection, step: str, checksum: str, run_id: str | None) -> int:
    return conn.execute(
        "INSERT INTO dbopt.migration_ledger (step, checksum, run_id, outcome) VALUES (%s, %s, %s, 'running') RETURNING id",
        (step, checksum, run_id),
    ).fetchone()[0]


def finish(conn: psycopg.Connection, entry_id: int, outcome: str, detail: str | None = None) -> None:
    conn.execute(
        "UPDATE dbopt.migration_ledger SET outcome = %s, detail = %s, finished_at = clock_timestamp() WHERE id = %s",
        (outcome, detail, entry_id),
    )


def record(conn: psycopg.Connection, step: str, checksum: str, run_id: str | None, outcome: str, detail: str) -> None:
    entry_id = start(conn, step, checksum, run_id)
    finish(conn, entry_id, outcome, detail)


def status(conn: psycopg.Connection) -> list[LedgerEntry]:
    """The last entry of every step, in the order steps first ran."""
    if not installed(conn):
        return []
    rows = conn.execute(
        """
        SELECT DISTINCT ON (step) step, checksum, outcome, run_id, started_at, finished_at, detail
        FROM dbopt.migration_ledger ORDER BY step, id DESC
        """
    ).fetchall()
    first = dict(conn.execute("SELECT step, min(id) FROM dbopt.migration_ledger GROUP BY step").fetchall())
    return sorted((LedgerEntry(*r) for r in rows), key=lambda e: first[e.step])
