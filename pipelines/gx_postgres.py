"""Great Expectations 1.x suites, run in-database against PostgreSQL.

`dagster-ge` pins great-expectations < 1, so the asset checks call GX themselves. Each
suite's queries run in PostgreSQL over the rows their check's scope names
(pipelines/check_scope.py: what the run changed, a random sample of the rest, or every
row); only counts travel back, and a failing check fetches a small sample of offending rows.
"""

import os
import threading
from dataclasses import dataclass
from typing import Any

from dbopt.secrets import scrub_for

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


_lock = threading.Lock()
_contexts: dict[tuple[str, float], Any] = {}

# In full mode a suite's queries read whole tables; on a production-sized table that is minutes,
# never hours. A check that runs longer is cancelled and fails instead of holding a
# snapshot (and vacuum) back indefinitely.
STATEMENT_TIMEOUT_S = 900.0


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


def sqlalchemy_url(url: str, statement_timeout_s: float = STATEMENT_TIMEOUT_S) -> str:
    """A SQLAlchemy URL (psycopg 3 driver) for any libpq connection string, URI or key=value."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    from dbopt.postgres.connect import IDLE_IN_TRANSACTION_TIMEOUT_S, KEEPALIVES, SINGLE_CORE

    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    timeouts = (
        f"-c statement_timeout={int(statement_timeout_s * 1000)} "
        f"-c idle_in_transaction_session_timeout={int(IDLE_IN_TRANSACTION_TIMEOUT_S * 1000)}"
    )
    params["options"] = (params.get("options", "") + f" {SINGLE_CORE} {timeouts}").strip()
    for key, value in KEEPALIVES.items():
        params.setdefault(key, str(value))
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


def _datasource(url: str, statement_timeout_s: float) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    with _lock:
        key = (url, statement_timeout_s)
        if key not in _contexts:
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _contexts[key] = context.data_sources.add_postgres(
                "app", connection_string=sqlalchemy_url(url, statement_timeout_s)
            )
        return _contexts[key]


def validate(
    url: str, table: str, expectations: list[Expectation], statement_timeout_s: float = STATEMENT_TIMEOUT_S
) -> list[Outcome]:
    """Validate a suite against `table` in the database at `url`, every query under statement_timeout."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    try:
        source = _datasource(url, statement_timeout_s)
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
        error = _raised(item.exception_info)
        if error:
            # GX reports a query that failed (a statement timeout included) as a plain failed
            # expectation with 0 offending rows; say what happened instead.
            from dbopt.errors import DboptError

            reason = scrub_for(error, url)
            if "statement timeout" in reason:
                reason = f"it ran longer than its statement timeout of {statement_timeout_s:g} s"
            raise DboptError(
                f"Great Expectations could not evaluate {name!r} on {table}: {reason[:300]}; rerun the check when "
                f"the database is quieter."
            )
        res = item.result or {}
        observed = res.get("unexpected_count", res.get("observed_value", 0)) or 0
        outcomes.append(Outcome(name, bool(item.success), int(observed)))
    return outcomes


def _raised(info: Any) -> str | None:
    """The first line of the error GX caught while evaluating an expectation, if any."""
    if not isinstance(info, dict):
        return None
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in entries:
        if entry.get("raised_exception"):
            text = str(entry.get("exception_message") or "error")
            lines = [line for line in text.splitlines() if line.strip()]
            return next((line for line in lines if "statement timeout" in line), lines[0] if lines else "error")
    return None
