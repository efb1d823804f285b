"""The remedy jobs that the drift alerts' sensors launch (also launchable by hand, defaults valid).

Each is Phase 1's own mechanism run again: the counters backfill under a fresh name, a
counter fix under row locks plus Phase 1's sweep, the migration runner's rebuild of an
INVALID concurrent index. Partition cleanup (`partition_cleanup`) and the cache warm-up
(`warm_cache`) are jobs of their own areas.
"""

import dagster as dg

from dbopt.monitoring import reconcile
from pipelines.failures import operator_errors
from pipelines.metadata import table_of
from pipelines.postgres_steps import BackfillConfig, backfill_metadata, engine, runner, steps_metadata
from pipelines.resources import PostgresResource

TAGS = {"dbopt/system": "postgres", "dbopt/remedy": "true"}

# A remedy that fails on something passing (a dropped connection, a failover, a deadlock the
# server broke) is tried again in the same run, after 10 s, 20 s, 40 s (give or take half):
# it resumes from its checkpoint. An operator's error (a DboptError: the rollout lock is
# held, a setting is wrong) is one sentence and is not retried (pipelines/failures.py).
RETRY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def remedy_job(name: str, step: dg.OpDefinition, description: str) -> dg.JobDefinition:
    """A remedy: one op, in one process, tagged as a PostgreSQL run (one at a time with the rollout's),
    retried with backoff on a passing failure."""

    @dg.job(name=name, executor_def=dg.in_process_executor, tags=TAGS, description=description,
            op_retry_policy=RETRY)
    def _job() -> None:
        step()

    return _job


@dg.op(
    pool="postgres_backfill",
    description=(
        "Recounts member_count, last_message_id and last_message_at of every conversation with Phase 1's counters "
        "backfill (conversations/050_backfill.batch.sql) under the backfill name conversation_counters/reconcile: "
        "each batch locks its conversation rows (FOR NO KEY UPDATE, ~50 ms) and writes only the counters that "
        "differ. Online; nothing to roll back (it writes what a recount says)."
    ),
    tags={"dbopt/remedy": "counter_drift"},
)
@operator_errors
def reconcile_counters(context: dg.OpExecutionContext, config: BackfillConfig, postgres: PostgresResource) -> dg.Output[None]:
    report = reconcile.reconcile_counters(engine(context, postgres, config))
    context.log.info(f"{report.rows:,} conversation(s) had counters that differed from a recount; repaired")
    return dg.Output(None, metadata={**backfill_metadata(report), "repaired": dg.MetadataValue.int(report.rows)})


reconcile_conversation_counters = remedy_job(
    "reconcile_conversation_counters",
    reconcile_counters,
    "Remedy for the counter drift alert: recounts every conversation's member_count and last message under row "
    "locks, online (Phase 1's counters backfill, run again under its own name).",
)


@dg.op(
    pool="postgres_backfill",
    description=(
        "Sets every conversation counter that is behind its highest sequence number to that number, under the "
        "conversation's row lock (the lock the trigger numbers under), in ~50 ms batches "
        "(sql/postgres/monitoring/reconcile/sequence_counters.batch.sql); then, if "
        "messages.sequence_number is not yet NOT NULL, numbers unnumbered messages with Phase 1's sweep. Numbers "
        "used twice are left alone. Online; nothing to roll back (counters only move up to numbers already used)."
    ),
    tags={"dbopt/remedy": "sequence_drift"},
)
@operator_errors
def reconcile_sequences(context: dg.OpExecutionContext, config: BackfillConfig, postgres: PostgresResource) -> dg.Output[None]:
    reports = reconcile.reconcile_sequences(engine(context, postgres, config))
    context.log.info(f"counters set to their highest number: {reports[0].rows:,}"
                     + (f"; messages numbered: {reports[1].rows:,}" if len(reports) > 1 else ""))
    return dg.Output(None, metadata={
        **backfill_metadata(*reports),
        "counters_repaired": dg.MetadataValue.int(reports[0].rows),
        "messages_numbered": dg.MetadataValue.int(reports[1].rows if len(reports) > 1 else 0),
    })


reconcile_sequence_numbers = remedy_job(
    "reconcile_sequence_numbers",
    reconcile_sequences,
    "Remedy for the sequence drift alert: counters behind their highest number are set to it under the "
    "conversation's row lock; unnumbered messages are numbered like new ones.",
)


@dg.op(
    pool="postgres_ddl",
    description=(
        "Rebuilds dbopt's INVALID indexes: the migration runner drops each with DROP INDEX CONCURRENTLY and builds "
        "it again with CREATE INDEX CONCURRENTLY from its Phase 1 file; writers are never blocked. INVALID indexes "
        "dbopt did not create are listed, not touched. Rollback: rollback_phase1_postgres drops dbopt's indexes."
    ),
    tags={"dbopt/remedy": "invalid_index"},
)
@operator_errors
def rebuild_indexes(context: dg.OpExecutionContext, postgres: PostgresResource) -> dg.Output[None]:
    result = reconcile.rebuild_invalid_indexes(runner(context, postgres))
    if result.not_ours:
        context.log.warning(
            f"INVALID index(es) not created by dbopt, left alone: {', '.join(result.not_ours)}; DROP INDEX "
            f"CONCURRENTLY each and create it again by hand."
        )
    return dg.Output(None, metadata={
        **steps_metadata(result.rebuilt),
        "not_dbopts": table_of([{"index": n} for n in result.not_ours]),
    })


rebuild_invalid_indexes = remedy_job(
    "rebuild_invalid_indexes",
    rebuild_indexes,
    "Remedy for the INVALID index alert: dbopt's INVALID indexes dropped and built again concurrently.",
)


REMEDY_JOBS = [reconcile_conversation_counters, reconcile_sequence_numbers, rebuild_invalid_indexes]
