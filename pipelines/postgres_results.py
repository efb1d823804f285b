"""Turn a PostgreSQL check into a Dagster check result that says what failed and what to do."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
import psycopg

from dbopt import sqlfiles
from pipelines import gx_postgres
from pipelines.check_scope import Scope
from pipelines.metadata import table_of
from pipelines.resources import PostgresResource

SAMPLE_ROWS = 10


def sample(conn: psycopg.Connection, query: str, limit: int = SAMPLE_ROWS) -> list[dict[str, Any]]:
    cur = conn.execute(f"SELECT * FROM ({query}) AS offending LIMIT {int(limit)}")
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def no_rows_check(
    postgres: PostgresResource,
    *,
    table: str,
    files: Mapping[str, str],
    next_step: str,
    scope: Scope,
    render: Mapping[str, str] | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    extra_metadata: Mapping[str, Any] | None = None,
) -> dg.AssetCheckResult:
    """A GX suite on `table`: the named queries (files under sql/postgres/checks/) must return
    no row over the check's scope (pipelines/check_scope.py), stated in the metadata."""
    url = postgres.connector().url
    values = {**scope.render(), **(render or {})}
    queries = {name: sqlfiles.load(f"postgres/checks/{path}", values).strip().rstrip(";") for name, path in files.items()}
    expectations = [gx_postgres.Expectation("no_rows", name, query=q) for name, q in queries.items()]
    outcomes = gx_postgres.validate(url, table, expectations)
    failed = [o for o in outcomes if not o.success]
    metadata: dict[str, Any] = {
        o.name: dg.MetadataValue.int(o.observed) for o in outcomes
    }
    # The suite's expectations (Great Expectations, run in the database).
    metadata["suite"] = table_of(
        [{"expectation": o.name, "passed": o.success, "offending_rows": o.observed} for o in outcomes]
    )
    if failed:
        with postgres.connector().connection() as conn:
            for o in failed:
                if o.name in queries:
                    metadata[f"sample: {o.name}"] = table_of(sample(conn, queries[o.name]))
        metadata["next_step"] = dg.MetadataValue.text(next_step)
    metadata.update(scope.metadata())
    metadata.update(extra_metadata or {})
    return dg.AssetCheckResult(passed=not failed, severity=severity, metadata=metadata)
