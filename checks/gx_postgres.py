"""Great Expectations 1.x suites, run in-database against PostgreSQL.

`dagster-ge` pins great-expectations < 1, so the asset checks call GX themselves. Each
suite validates a whole table (the batch) with SQL executed by PostgreSQL; only counts
travel back, and a failing check fetches a small sample of offending rows itself.
"""

import os
import threading
from dataclasses import dataclass
from typing import Any

from dbopt.secrets import scrub_for

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


_lock = threading.Lock()
_contexts: dict[str, Any] = {}


@dataclass(frozen=True)
class Expectation:
    """One expectation: `not_null` on a column, or `no_rows` returned by a query."""

    kind: str  # "not_null" | "no_rows"
    name: str
    column: str | None = None
    query: str | None = None


@dataclass(frozen=True)
class Outcome:
    name: str
    success: bool
    observed: int  # offending rows


def sqlalchemy_url(url: str) -> str:
    """A SQLAlchemy URL (psycopg 3 driver) for any libpq connection string, URI or key=value."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    from dbopt.postgres.connect import SINGLE_CORE

    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    params["options"] = (params.get("options", "") + " " + SINGLE_CORE).strip()
    params.setdefault("application_name", "dbopt checks")
    port = params.pop("port", None)
    rendered = URL.create(
        "postgresql+psycopg",
        username=params.pop("user", None),
        password=params.pop("password", None),
        host=params.pop("host", None),
        port=int(port) if port else None,
        database=params.pop("dbname", None),
        query=params,
    ).render_as_string(hide_password=False)
    return rendered.replace("$", "\\$")  # GX treats ${...} as config templates


def _datasource(url: str) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    with _lock:
        if url not in _contexts:
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _contexts[url] = context.data_sources.add_postgres("app", connection_string=sqlalchemy_url(url))
        return _contexts[url]


def validate(url: str, table: str, expectations: list[Expectation]) -> list[Outcome]:
    """Validate a suite against `table` in the database at `url`."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    try:
        source = _datasource(url)
        asset = next((a for a in source.assets if a.name == table), None) or source.add_table_asset(
            table, table_name=table
        )
        definition = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_table("whole table")
        suite = gx.ExpectationSuite(name=f"dbopt {table}")
        for exp in expectations:
            if exp.kind == "not_null":
                suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=exp.column, meta={"name": exp.name}))
            else:
                # GX wants every row query to read its batch; ours read whole tables, and the
                # batch is the whole table, so anchoring the query to it changes nothing. GX
                # aliases the batch subquery itself unless the query has a JOIN; this one always
                # has, and names the batch, as PostgreSQL before 16 requires.
                anchored = (
                    f"SELECT offending.* FROM ({exp.query}) AS offending "
                    f"JOIN (SELECT 1 AS one FROM {{batch}} AS batch LIMIT 1) AS anchor ON true"
                )
                suite.add_expectation(
                    gxe.UnexpectedRowsExpectation(
                        unexpected_rows_query=anchored, description=exp.name, meta={"name": exp.name}
                    )
                )
        result = definition.get_batch().validate(suite, result_format="SUMMARY")
    except Exception as exc:  # GX wraps driver errors in its own types
        from dbopt.errors import DboptError

        raise DboptError(
            f"Great Expectations could not validate {table}: {scrub_for(str(exc), url)[:300]}"
        ) from None
    outcomes = []
    for item in result.results:
        name = item.expectation_config.meta.get("name", item.expectation_config.type)
        res = item.result or {}
        observed = res.get("unexpected_count", res.get("observed_value", 0)) or 0
        outcomes.append(Outcome(name, bool(item.success), int(observed)))
    return outcomes
