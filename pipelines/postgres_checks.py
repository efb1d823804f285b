"""Checks shared by several PostgreSQL steps: triggers enabled, no INVALID index; and the
checks of a backfill put on its `*_by_range` copy too."""

from collections.abc import Callable
from typing import Any

import dagster as dg

from dbopt import sqlfiles
from pipelines import check_scope
from pipelines.metadata import table_of
from pipelines.resources import PostgresResource


def triggers_enabled(postgres: PostgresResource, names: tuple[str, ...]) -> dg.AssetCheckResult:
    with postgres.connector().connection() as conn:
        cur = conn.execute(sqlfiles.load("postgres/checks/query_indexes/triggers.sql"))
        cols = [d.name for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall() if r[1] in names]
    bad = [r for r in rows if not (r["present"] and r["enabled"])]
    metadata = {"triggers": table_of(rows)}
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
        metadata["sample"] = table_of(rows)
        metadata["next_step"] = dg.MetadataValue.text(
            "An INVALID index is left by a failed CREATE INDEX CONCURRENTLY; rerun the job, which drops and "
            "rebuilds dbopt's own indexes, or DROP INDEX CONCURRENTLY any other one."
        )
    return dg.AssetCheckResult(passed=not rows, metadata=metadata)


def backfill_check(asset: str, **kwargs: Any) -> Callable[[Callable], list[dg.AssetChecksDefinition]]:
    """`@dg.asset_check` on a backfill step and on its `<asset>_by_range` copy, one body for both.

    In a range run the check reads that run's key range in full (pipelines/check_scope.py,
    mode `range`), so a Dagster backfill of the ranges is verified range by range, as it goes."""

    def decorate(fn: Callable) -> list[dg.AssetChecksDefinition]:
        return [dg.asset_check(asset=a, name=fn.__name__, **kwargs)(fn) for a in (asset, f"{asset}_by_range")]

    return decorate


def backfill_scope(
    context: dg.AssetCheckExecutionContext,
    postgres: PostgresResource,
    *,
    table: str,
    backfills: tuple[str, ...],
    sample: int,
    unit: str,
) -> check_scope.Scope:
    """The scope of a check of `table` after `backfills`, which slice its `id` (pipelines/check_scope.py)."""
    with postgres.connector().connection() as conn:
        return check_scope.scope(context, conn, table=table, key="id", backfills=backfills, sample=sample, unit=unit)
