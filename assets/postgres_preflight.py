"""Before phase1_postgres changes anything: will it work on this server, right now?

Read-only findings (dbopt/postgres/preflight.py), each a blocking check of this asset
(checks/postgres_preflight.py): a no-go stops the rollout in the same run before its first
change. Also runs on its own (job `preflight_postgres`, or this asset from the Launchpad)
and in the terminal as `dbopt plan`, with the same sentences.
"""

from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from checks.postgres_preflight import POSTGRES_PREFLIGHT_CHECKS, check_results
from dbopt.postgres import preflight
from dbopt.preflight import blockers, verdict
from pipelines import check_scope
from pipelines.failures import operator_errors
from pipelines.metadata import preflight_group, table_of
from pipelines.resources import PostgresResource

_DEFAULT = preflight.Thresholds()

FINDINGS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("finding", "string", description="The check's name."),
        dg.TableColumn("verdict", "string", description="go, warn or no_go (no_go stops the rollout)."),
        dg.TableColumn("value", "string", description="What was found."),
        dg.TableColumn("threshold", "string", description="What it is compared with."),
        dg.TableColumn("what it means", "string", description="What was found, and what to do."),
    ]
)


class PostgresPreflightConfig(dg.Config):
    """The preflight's thresholds; checked (one sentence) before anything connects."""

    idle_in_transaction_min_s: float = Field(
        default=_DEFAULT.idle_in_transaction_min_s,
        description=(
            "A session idle in transaction holding a lock on a table the rollout changes is a no-go once it has been "
            "idle this long (s) and still is at a second look, whatever its transaction's age; a busy application's "
            "transactions sit idle between their statements for moments."
        ),
    )
    warn_transaction_age_s: float = Field(
        default=_DEFAULT.warn_transaction_age_s, description="Warn about transactions open longer than this (s)."
    )
    no_go_transaction_age_s: float = Field(
        default=_DEFAULT.no_go_transaction_age_s,
        description="No-go for transactions open longer than this (s); the backfill throttle pauses on them anyway.",
    )
    max_replication_lag_s: float = Field(
        default=_DEFAULT.max_replication_lag_s,
        description="Warn when a replica replays further behind than this (s), the backfill throttle's default limit.",
    )
    spare_connections: int = Field(
        default=_DEFAULT.spare_connections,
        description="Warn when dbopt's connections would leave the application fewer free connections than this.",
    )
    statement_timeout_s: float = Field(
        default=_DEFAULT.statement_timeout_s, description="Longest any of the preflight's catalog reads may run (s)."
    )


def thresholds(config: PostgresPreflightConfig, postgres: PostgresResource) -> preflight.Thresholds:
    return preflight.Thresholds(
        idle_in_transaction_min_s=config.idle_in_transaction_min_s,
        warn_transaction_age_s=config.warn_transaction_age_s,
        no_go_transaction_age_s=config.no_go_transaction_age_s,
        max_replication_lag_s=config.max_replication_lag_s,
        spare_connections=config.spare_connections,
        pool_max_size=postgres.pool_max_size,
        min_server_version_num=postgres.min_server_version_num,
        statement_timeout_s=config.statement_timeout_s,
    )


@dg.asset(
    **preflight_group("postgres"),
    check_specs=POSTGRES_PREFLIGHT_CHECKS,
    description=(
        "Read-only readiness findings for phase1_postgres on DATABASE_URL, right now: server version, privileges, "
        "visibility of other sessions, a transaction-pooling proxy, sessions idle in transaction holding locks on "
        "the tables the rollout changes, long transactions, replicas and their lag, autovacuum, connection "
        "headroom. Each is a blocking check: a no-go stops the rollout before its first change, a warning lets it "
        "run. Writes nothing (READ ONLY transactions). Same findings as `dbopt plan`."
    ),
)
@operator_errors
def postgres_preflight(
    context: dg.AssetExecutionContext, config: PostgresPreflightConfig, postgres: PostgresResource
) -> Iterator[dg.MaterializeResult]:
    """The operator learns what would stop the rollout before it starts, not halfway through it."""
    check_scope.mode_of(context.run.tags)  # a bad dbopt/checks tag stops the run before anything connects
    limits = thresholds(config, postgres)
    limits.check()
    findings = preflight.run(postgres.connector(), limits)
    for f in findings:
        if f.verdict.value != "go":
            context.log.warning(f"{f.verdict.value}: {f.name}: {f.sentence}")
    details = [
        {"finding": f.name, **d} for f in findings for d in f.details
    ]
    metadata: dict[str, dg.MetadataValue] = {
        "verdict": dg.MetadataValue.text(verdict(findings).value),
        "findings": dg.MetadataValue.table(
            records=[dg.TableRecord(f.as_row()) for f in findings], schema=FINDINGS_SCHEMA
        ),
        "database": dg.MetadataValue.text(postgres.safe_url()),
        "thresholds": dg.MetadataValue.json(limits.as_dict()),
    }
    if details:
        metadata["details"] = table_of(details, sorted({k for d in details for k in d}, key=lambda k: k != "finding"))
    yield dg.MaterializeResult(metadata=metadata, check_results=check_results(findings))
    stop = blockers(findings)
    if stop:
        # The checks above are recorded (and shown) first; the run then stops with the sentences
        # themselves rather than Dagster's "blocking check failed".
        raise dg.Failure(description=" ".join(f.sentence for f in stop), allow_retries=False)
