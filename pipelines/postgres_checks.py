"""Checks shared by several PostgreSQL steps: triggers enabled, no INVALID index."""

import dagster as dg

from dbopt import sqlfiles
from pipelines.metadata import md_text
from pipelines.resources import PostgresResource


def triggers_enabled(postgres: PostgresResource, names: tuple[str, ...]) -> dg.AssetCheckResult:
    with postgres.connector().connection() as conn:
        cur = conn.execute(sqlfiles.load("postgres/checks/query_indexes/triggers.sql"))
        cols = [d.name for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall() if r[1] in names]
    bad = [r for r in rows if not (r["present"] and r["enabled"])]
    metadata = {"triggers": dg.MetadataValue.md(md_text(rows))}
    if bad:
        metadata["next_step"] = dg.MetadataValue.text(
            "Rerun the job: the step that creates the trigger is idempotent. If a trigger is present but "
            "disabled, someone ran ALTER TABLE ... DISABLE TRIGGER; enable it before continuing."
        )
    return dg.AssetCheckResult(passed=not bad, metadata=metadata)


def no_invalid_indexes(postgres: PostgresResource) -> dg.AssetCheckResult:
    with postgres.connector().connection() as conn:
        cur = conn.execute(sqlfiles.load("postgres/checks/query_indexes/invalid.sql"))
        cols = [d.name for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    metadata = {"invalid_indexes": dg.MetadataValue.int(len(rows))}
    if rows:
        metadata["sample"] = dg.MetadataValue.md(md_text(rows))
        metadata["next_step"] = dg.MetadataValue.text(
            "An INVALID index is left by a failed CREATE INDEX CONCURRENTLY; rerun the job, which drops and "
            "rebuilds dbopt's own indexes, or DROP INDEX CONCURRENTLY any other one."
        )
    return dg.AssetCheckResult(passed=not rows, metadata=metadata)
