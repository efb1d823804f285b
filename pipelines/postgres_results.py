"""Turn a PostgreSQL check into a Dagster check result that says what failed and what to do."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
import psycopg

from dbopt import sqlfiles
from dbopt.errors import DboptError
from pipelines import gx_postgres
from pipelines.check_scope import FULL, Scope
from pipelines.metadata import table_of
from pipelines.resources import PostgresResource

SAMPLE_ROWS = 10

# Which engine evaluates a suite. Great Expectations costs 7.8 s of import in a fresh process
# (the run's, under `dagster job execute` or the daemon) before it reads a row: more than a
# rerun's sampled checks. So the full verification on demand (run tag dbopt/checks=full) runs
# as a Great Expectations suite, and the default scope runs the same queries directly, under
# the same statement timeout; both count the rows each query returns
# (tests/postgres/test_check_scope.py shows they find the same offending rows).
GX_ENGINE = "Great Expectations 1.x suite, in-database"
SQL_ENGINE = "the suite's queries, run directly in PostgreSQL"


def sample(conn: psycopg.Connection, query: str, limit: int = SAMPLE_ROWS) -> list[dict[str, Any]]:
    cur = conn.execute(f"SELECT * FROM ({query}) AS offending LIMIT {int(limit)}")
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def count_offending(
    postgres: PostgresResource, queries: Mapping[str, str],
    statement_timeout_s: float = gx_postgres.STATEMENT_TIMEOUT_S,
) -> list[gx_postgres.Outcome]:
    """Each query's offending rows, counted in PostgreSQL in one read-only transaction (one
    snapshot for the suite, as a GX batch), every statement under the suite's timeout."""
    outcomes = []
    with postgres.connector().connection() as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = {int(statement_timeout_s * 1000)}")
        # A sampled check reads little, but its plan can cost enough to be JIT-compiled first (~40 ms a query).
        conn.execute("SET LOCAL jit = off")
        for name, query in queries.items():
            try:
                row = conn.execute(f"SELECT count(*) FROM ({query}) AS offending").fetchone()
            except psycopg.errors.QueryCanceled:
                raise DboptError(
                    f"The check query {name!r} ran longer than its statement timeout of {statement_timeout_s:g} s; "
                    f"rerun the check when the database is quieter."
                ) from None
            observed = int(row[0]) if row else 0
            outcomes.append(gx_postgres.Outcome(name, observed == 0, observed))
    return outcomes


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
    """A suite on `table`: the named queries (files under sql/postgres/checks/) must return no
    row over the check's scope (pipelines/check_scope.py), stated in the metadata; a Great
    Expectations suite in full mode, the same queries directly otherwise (see GX_ENGINE)."""
    url = postgres.connector().url
    values = {**scope.render(), **(render or {})}
    queries = {name: sqlfiles.load(f"postgres/checks/{path}", values).strip().rstrip(";") for name, path in files.items()}
    if scope.mode == FULL:
        engine = GX_ENGINE
        expectations = [gx_postgres.Expectation("no_rows", name, query=q) for name, q in queries.items()]
        outcomes = gx_postgres.validate(url, table, expectations)
    else:
        engine = SQL_ENGINE
        outcomes = count_offending(postgres, queries)
    failed = [o for o in outcomes if not o.success]
    metadata: dict[str, Any] = {
        o.name: dg.MetadataValue.int(o.observed) for o in outcomes
    }
    # The suite's expectations, run in the database by `engine` (also stated as check_engine).
    metadata["suite"] = table_of(
        [{"expectation": o.name, "passed": o.success, "offending_rows": o.observed} for o in outcomes]
    )
    metadata["check_engine"] = dg.MetadataValue.text(engine)
    if failed:
        with postgres.connector().connection() as conn:
            for o in failed:
                if o.name in queries:
                    metadata[f"sample: {o.name}"] = table_of(sample(conn, queries[o.name]))
        metadata["next_step"] = dg.MetadataValue.text(next_step)
    metadata.update(scope.metadata())
    metadata.update(extra_metadata or {})
    return dg.AssetCheckResult(passed=not failed, severity=severity, metadata=metadata)
