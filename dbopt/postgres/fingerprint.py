"""A fingerprint of the application's schema, taken before the rollout.

Rollback must return the schema to exactly the baseline. "Exactly" is checked by
comparing the catalog description of the baseline tables (columns, defaults, NOT NULL,
constraints, indexes, triggers) with the one recorded before Phase 1 began.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dbopt.postgres.baseline import BASELINE_TABLES

_CATALOG_SQL = """
WITH t AS (
    SELECT c.oid, c.relname FROM pg_class c
    WHERE c.oid = ANY (ARRAY(SELECT to_regclass(x) FROM unnest(%(tables)s::text[]) AS x WHERE to_regclass(x) IS NOT NULL))
)
SELECT t.relname,
  (SELECT jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                      pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attname)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
  (SELECT coalesce(jsonb_agg(jsonb_build_array(co.conname, co.contype::text, pg_get_constraintdef(co.oid))
                             ORDER BY co.conname), '[]')
     FROM pg_constraint co WHERE co.conrelid = t.oid) AS constraints,
  (SELECT coalesce(jsonb_agg(jsonb_build_array(ic.relname, pg_get_indexdef(i.indexrelid), i.indisvalid)
                             ORDER BY ic.relname), '[]')
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = t.oid) AS indexes,
  (SELECT coalesce(jsonb_agg(jsonb_build_array(tg.tgname, pg_get_triggerdef(tg.oid)) ORDER BY tg.tgname), '[]')
     FROM pg_trigger tg WHERE tg.tgrelid = t.oid AND NOT tg.tgisinternal) AS triggers
FROM t ORDER BY t.relname
"""


def catalog(conn: psycopg.Connection, tables: tuple[str, ...] = BASELINE_TABLES) -> dict[str, Any]:
    rows = conn.execute(_CATALOG_SQL, {"tables": list(tables)}).fetchall()
    return {
        name: {"columns": cols, "constraints": cons, "indexes": idx, "triggers": trg}
        for name, cols, cons, idx, trg in rows
    }


def digest(description: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]


def record_baseline(conn: psycopg.Connection, schema: str = "public") -> tuple[str, bool]:
    """Record the pre-rollout fingerprint once; returns (fingerprint, newly recorded)."""
    existing = conn.execute(
        "SELECT fingerprint FROM dbopt.baseline_fingerprint WHERE schema_name = %s", (schema,)
    ).fetchone()
    if existing:
        return existing[0], False
    description = catalog(conn)
    fp = digest(description)
    conn.execute(
        "INSERT INTO dbopt.baseline_fingerprint (schema_name, fingerprint, catalog) VALUES (%s, %s, %s) "
        "ON CONFLICT (schema_name) DO NOTHING",
        (schema, fp, Jsonb(description)),
    )
    return fp, True


def recorded(conn: psycopg.Connection, schema: str = "public") -> tuple[str, dict[str, Any]] | None:
    row = conn.execute(
        "SELECT fingerprint, catalog FROM dbopt.baseline_fingerprint WHERE schema_name = %s", (schema,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human-readable differences between two catalog descriptions."""
    out: list[str] = []
    for table in sorted(set(before) | set(after)):
        b, a = before.get(table, {}), after.get(table, {})
        for part in ("columns", "constraints", "indexes", "triggers"):
            bset = {json.dumps(x) for x in b.get(part, [])}
            aset = {json.dumps(x) for x in a.get(part, [])}
            for extra in sorted(aset - bset):
                out.append(f"{table}: extra {part[:-1]} {json.loads(extra)[0]}")
            for gone in sorted(bset - aset):
                out.append(f"{table}: missing {part[:-1]} {json.loads(gone)[0]}")
    return out
