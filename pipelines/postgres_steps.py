"""How a Dagster step drives the PostgreSQL mechanisms: runner, backfill engine, metadata."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import dagster as dg
from pydantic import Field

from dbopt.errors import DboptError
from dbopt.postgres import baseline, cost, phase1
from dbopt.postgres.backfill import (
    KEY_RANGES,
    Backfill,
    BackfillEngine,
    BackfillReport,
    BackfillSettings,
    KeyRange,
)
from dbopt.postgres.health import ThrottleSettings
from dbopt.postgres.runner import ConcurrentIndex, MigrationRunner, Sql, StepResult
from pipelines import check_scope, metadata
from pipelines.failures import operator_errors
from pipelines.metadata import (
    OWNERS,  # noqa: F401 (re-exported to the asset modules)
    table_of,
)
from pipelines.resources import PostgresResource

# What every Phase 1.1 asset on PostgreSQL shares.
PHASE1 = {
    "group_name": "phase1_postgres",
    "kinds": {"postgres"},
    "owners": OWNERS,
    "tags": {"phase": "1", "system": "postgres"},
}


class BackfillConfig(dg.Config):
    """Pace of a backfill; the defaults suit a busy production database."""

    target_batch_ms: int = Field(
        default=50,
        description=(
            "Batch size adapts so each batch takes about this long (1 to 10000). Shorter batches hold row locks and WAL bursts "
            "for less time (writer p99 1.29x instead of 1.56x at 50 vs 200 ms, docs/postgres.md)."
        ),
    )
    pause_ratio: float = Field(
        default=0.0,
        description=(
            "Idle time after each batch as a fraction of its duration: 1.0 halves the backfill's share of the "
            "database, lowering the application's latency during the backfill at the cost of time (docs/postgres.md)."
        ),
    )
    vacuum_every_fraction: float = Field(
        default=0.1,
        description=(
            "VACUUM (online, not FULL) the table each time this fraction of its rows has been rewritten, so the rest "
            "of the pass reuses the dead versions' space (0 to 1; 0 leaves it to autovacuum, and the table ends "
            "bigger, docs/postgres.md)."
        ),
    )
    max_transaction_age_s: float = Field(default=300, description="Pause while an older transaction is open.")
    max_replication_lag_s: float = Field(default=10, description="Pause while a replica lags more than this.")
    max_pause_s: float = Field(default=900, description="Fail (resumably) after pausing this long in a row.")


Context = dg.AssetExecutionContext | dg.OpExecutionContext


def begin(context: Context, postgres: PostgresResource) -> None:
    """Every run that changes PostgreSQL starts here, before its first change (see dbopt/postgres/rollout.py).

    Checks every setting of the run (the resource's and each op's config) and the server,
    then takes the rollout lock of the database for the rest of the run: shared for a
    partitioned backfill run (ranges of one rollout run side by side), exclusive otherwise."""
    check_scope.mode_of(context.run.tags)
    shared = context.has_partition_key
    run_config = context.run.run_config or {}
    op_configs = {op: dict((entry or {}).get("config") or {}) for op, entry in (run_config.get("ops") or {}).items()}
    owner = f"run {context.run.run_id[:8]} ({context.job_name})"
    version = postgres.begin_rollout(owner=owner, shared=shared, op_configs=op_configs)
    if version is not None:
        context.log.info(
            f"settings checked; PostgreSQL {version}; holding the rollout lock of this database "
            f"({'shared with other range runs' if shared else 'exclusive'}) until the run ends"
        )


def runner(context: Context, postgres: PostgresResource) -> MigrationRunner:
    """A migration runner on the application's database, after checking it is the baseline."""
    begin(context, postgres)
    connector = postgres.connector()
    with connector.connection() as conn:
        baseline.require(conn, connector.url)
    return MigrationRunner(connector, settings=postgres.runner_settings(), run_id=context.run.run_id, log=context.log)


def engine(context: Context, postgres: PostgresResource, config: BackfillConfig) -> BackfillEngine:
    begin(context, postgres)
    settings = BackfillSettings(
        lock_timeout_ms=postgres.lock_timeout_ms,
        pause_ratio=config.pause_ratio,
        vacuum_every_fraction=config.vacuum_every_fraction,
        throttle=ThrottleSettings(
            max_transaction_age_s=config.max_transaction_age_s,
            max_replication_lag_s=config.max_replication_lag_s,
            max_pause_s=config.max_pause_s,
        ),
    )
    return BackfillEngine(postgres.connector(), settings=settings, run_id=context.run.run_id, log=context.log)


RANGE_PARTITIONS = dg.StaticPartitionsDefinition([r.id for r in KEY_RANGES])


def range_of(partition_key: str) -> KeyRange:
    return next(r for r in KEY_RANGES if r.id == partition_key)


def run_backfill(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    config: BackfillConfig,
    spec: Backfill,
    mig: MigrationRunner,
) -> BackfillReport:
    """Run a backfill over every key range (one partition's range in a partitioned run).

    A complete backfill is ledgered as a step, so a rerun of the job skips it; ranges done
    by partitioned runs are skipped by their checkpoints."""
    checksum = spec.checksum()
    partitioned = context.has_partition_key
    if not partitioned and mig.is_applied(spec.name, checksum):
        context.log.info(f"{spec.name}: already complete, nothing to do")
        return BackfillReport(spec.name)
    tuned = Backfill(**{**spec.__dict__, "target_batch_ms": config.target_batch_ms})
    ranges = [range_of(context.partition_key)] if partitioned else KEY_RANGES
    report = engine(context, postgres, config).run(tuned, ranges)
    if not partitioned:
        mig.record_applied(spec.name, checksum, f"{report.rows} rows in {report.seconds:.1f} s")
    return report


def backfill_result(
    context: dg.AssetExecutionContext, postgres: PostgresResource, config: BackfillConfig, spec: Backfill
) -> dg.MaterializeResult:
    """A step that is one backfill: run it (see `run_backfill`) and report it."""
    report = run_backfill(context, postgres, config, spec, runner(context, postgres))
    return dg.MaterializeResult(metadata=backfill_metadata(report))


def steps_metadata(results: Sequence[StepResult]) -> dict[str, dg.MetadataValue]:
    rows = [{"step": r.name, "outcome": r.outcome, "seconds": round(r.seconds, 2), "attempts": r.attempts,
             "detail": r.detail} for r in results]
    return {
        "steps": table_of(rows, ["step", "outcome", "seconds", "attempts", "detail"]),
        "applied": dg.MetadataValue.int(sum(r.outcome == "applied" for r in results)),
        "skipped": dg.MetadataValue.int(sum(r.outcome == "skipped" for r in results)),
        "seconds": dg.MetadataValue.float(round(sum(r.seconds for r in results), 3)),
    }


def backfill_metadata(*reports: BackfillReport) -> dict[str, dg.MetadataValue]:
    out: dict[str, dg.MetadataValue] = {}
    total_rows = sum(r.rows for r in reports)
    total_s = sum(r.seconds for r in reports)
    out["rows"] = dg.MetadataValue.int(total_rows)
    out["duration_s"] = dg.MetadataValue.float(round(total_s, 2))
    out["rows_per_s"] = dg.MetadataValue.float(round(total_rows / total_s, 1) if total_s else 0.0)
    out["backfills"] = table_of([
        {"backfill": r.name, "rows": r.rows, "batches": r.batches, "seconds": round(r.seconds, 1),
         "rows_per_s": round(r.rows_per_s), "paused_s": round(r.paused_s, 1), "lock_retries": r.lock_retries,
         "rows_before_resume": r.rows_before, "vacuums": r.vacuums, "vacuum_s": round(r.vacuum_s, 1)}
        for r in reports
    ], ["backfill", "rows", "batches", "seconds", "rows_per_s", "paused_s", "lock_retries", "rows_before_resume",
        "vacuums", "vacuum_s"])
    blind = next((r.blind for r in reports if r.blind), None)
    # "Cannot see" is never reported as healthy: say it where the operator looks.
    out["throttle_sees_other_sessions"] = dg.MetadataValue.text("yes" if blind is None else f"no: {blind}")
    out["timeout_splits"] = dg.MetadataValue.int(sum(r.timeout_splits for r in reports))
    return out


def cost_snapshot(postgres: PostgresResource) -> cost.Snapshot:
    """Sizes, dead tuples and WAL position of the tables the rollout rewrites (never raises)."""
    return cost.snapshot(postgres.connector(), phase1.CHANGED_TABLES)


def cost_metadata(before: cost.Snapshot, after: cost.Snapshot) -> dict[str, dg.MetadataValue]:
    """What the step cost the database: a table of sizes and dead tuples, and the WAL written."""
    rows = cost.changes(before, after, phase1.CHANGED_TABLES)

    def cell(value: int | None, kind: str) -> str:
        if value is None:
            return cost.UNKNOWN
        return f"{value:,}" if kind == "dead tuples" else cost.human(value)

    records = [
        dg.TableRecord({
            "relation": r.relation,
            "measure": r.kind,
            "before": cell(r.before, r.kind),
            "after": cell(r.after, r.kind),
            "ratio": f"{r.after / r.before:.2f}x" if r.before and r.after is not None else "",
        })
        for r in rows
    ]
    schema = dg.TableSchema(columns=[
        dg.TableColumn("relation", "string", description="table or index"),
        dg.TableColumn("measure", "string", description="total/table/index bytes (table: heap, TOAST, maps), or dead tuples"),
        dg.TableColumn("before", "string", description="before the step"),
        dg.TableColumn("after", "string", description="after it"),
        dg.TableColumn("ratio", "string", description="after / before"),
    ])
    wal = cost.wal_written(before, after)
    out: dict[str, dg.MetadataValue] = {
        "cost": dg.MetadataValue.table(records, schema=schema),
        # The whole server's WAL over the step: the application's writes in that time included.
        "wal_written": dg.MetadataValue.text(cost.human(wal)),
    }
    if wal is not None:
        out["wal_written_bytes"] = dg.MetadataValue.int(wal)
    for table in phase1.CHANGED_TABLES:
        total = after.total(table)
        if total is not None:
            out[f"{table}_bytes_after"] = dg.MetadataValue.int(total)
    problems = before.problems + after.problems
    if problems:
        out["cost_unknown_because"] = dg.MetadataValue.text("; ".join(dict.fromkeys(problems)))
    return out


def measured(body):
    """Wrap a step's body so that its MaterializeResult also reports what it cost the database."""

    @functools.wraps(body)
    def wrapper(context, postgres: PostgresResource, *args, **kwargs):
        before = cost_snapshot(postgres)
        result = body(context, postgres, *args, **kwargs)
        after = cost_snapshot(postgres)
        return result._replace(metadata={**(result.metadata or {}), **cost_metadata(before, after)})

    return wrapper


def sql_references(*steps: Sql | ConcurrentIndex | Backfill) -> dict[str, dg.MetadataValue]:
    """Definition metadata linking an asset to the SQL files its steps run."""
    return metadata.sql_references(*(s.batch_path if isinstance(s, Backfill) else s.path for s in steps))



def schema_step(steps: Sequence[Sql | ConcurrentIndex], *, deps: list[str], description: str):
    """A Phase 1.1 asset that applies `steps` (pool postgres_ddl) and reports each step.

    The decorated function gives the asset its name, docstring and code reference; its body
    is not run, the steps are."""

    def decorate(fn):
        @functools.wraps(fn)
        def body(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
            results = runner(context, postgres).apply(steps)
            return dg.MaterializeResult(metadata=steps_metadata(results))

        return dg.asset(**PHASE1, deps=deps, pool="postgres_ddl", metadata=sql_references(*steps),
                        description=description)(operator_errors(body))

    return decorate


PARALLEL_TAG = {"dbopt/parallel": "by_range"}


def require_applied(postgres: PostgresResource, asset: str, needs: Sequence[Sql]) -> None:
    """A range run launched before the schema its batches write to gets one sentence, not a SQL error.

    Inside `phase1_postgres` the graph orders the steps; a Dagster backfill of the
    `*_by_range` assets launched on its own has no such order, so check the ledger first."""
    from dbopt.postgres import ledger

    with postgres.connector().connection() as conn:
        installed = ledger.installed(conn)
        missing = [s.name for s in needs if not installed or ledger.latest_applied(conn, s.name) is None]
    if missing:
        raise DboptError(
            f"{asset} needs the schema steps before it, and {missing[0]} is not applied yet: run the job "
            f"phase1_postgres_triggers first (preflight, baseline, indexes and triggers), then launch the "
            f"ranges again."
        )


def backfill_assets(
    name: str,
    body,
    *,
    common: dict,
    deps: list[str],
    description: str,
    metadata: dict,
    needs: Sequence[Sql] = (),
) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """The backfill as a step of the phase's job, and the same work partitioned by key range.

    Launch a Dagster backfill of `<name>_by_range` (job `backfill_by_range`) to spread a large
    backfill over several workers (capped by the `postgres_backfill` pool); the job's step then
    finds those ranges done and skips them. `needs` are the schema steps its batches rely on.
    """
    body = measured(body)
    wrapped = operator_errors(body)

    @functools.wraps(body)
    def by_range_body(context: dg.AssetExecutionContext, postgres: PostgresResource, config: BackfillConfig):
        require_applied(postgres, f"{name}_by_range", needs)
        return body(context, postgres, config)
    step = dg.asset(name=name, **common, deps=deps, pool="postgres_backfill", metadata=metadata,
                    description=description)(wrapped)
    by_range = dg.asset(
        name=f"{name}_by_range",
        **{**common, "tags": {**common.get("tags", {}), **PARALLEL_TAG}},
        # A range run orders its backfills as the job does (content_tsv after the numbering, which sets it).
        deps=[f"{d}_by_range" if d.endswith("_backfill") else d for d in deps],
        pool="postgres_backfill",
        partitions_def=RANGE_PARTITIONS,
        metadata=metadata,
        description=(
            f"{name}, one of 16 key ranges per partition, for spreading a large backfill over several workers "
            f"(capped by the postgres_backfill pool; job backfill_by_range, after phase1_postgres_triggers). "
            f"Optional: the phase1_postgres job skips ranges done here."
        ),
    )(operator_errors(by_range_body))
    return step, by_range
