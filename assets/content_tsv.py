"""Phase 1.1, "Adds full-text search column `content_tsv` to messages"."""

import dagster as dg

from dbopt.postgres import phase1
from pipelines.failures import operator_errors
from pipelines.postgres_steps import (
    PHASE1,
    BackfillConfig,
    backfill_assets,
    backfill_result,
    runner,
    schema_step,
    sql_references,
    steps_metadata,
)
from pipelines.resources import PostgresResource


@dg.asset(
    **PHASE1,
    deps=["postgres_baseline"],
    pool="postgres_ddl",
    metadata=sql_references(*phase1.content_tsv_trigger("'simple'::regconfig")),
    description=(
        "Adds messages.content_tsv and a trigger that sets it to to_tsvector(<text_search_config>, content) on "
        "insert and on every change of content. Not a generated column: that would rewrite the table under an "
        "ACCESS EXCLUSIVE lock. Catalog changes only, lock_timeout per attempt. "
        "Rollback: drop the trigger, function and column."
    ),
)
@operator_errors
def content_tsv_trigger(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """New and edited messages are searchable from here on."""
    results = runner(context, postgres).apply(phase1.content_tsv_trigger(postgres.ts_config_literal()))
    return dg.MaterializeResult(
        metadata={**steps_metadata(results), "text_search_config": dg.MetadataValue.text(postgres.text_search_config)}
    )


def _content_tsv_backfill(
    context: dg.AssetExecutionContext, postgres: PostgresResource, config: BackfillConfig
) -> dg.MaterializeResult:
    """Old messages become searchable too."""
    return backfill_result(context, postgres, config, phase1.content_tsv_backfill(postgres.ts_config_literal()))


content_tsv_backfill, content_tsv_backfill_by_range = backfill_assets(
    "content_tsv_backfill",
    _content_tsv_backfill,
    common=PHASE1,
    needs=phase1.content_tsv_trigger("'simple'"),  # only the steps' names are read
    # After the numbering pass, which sets content_tsv as it rewrites each message: this only sweeps.
    deps=["content_tsv_trigger", "sequence_number_backfill"],
    metadata=sql_references(phase1.content_tsv_backfill("'simple'::regconfig")),
    description=(
        "Backfill of content_tsv for existing messages that the sequence_number backfill (which sets content_tsv "
        "in the same UPDATE) did not reach; normally none. Batched by id and checkpointed; row locks only, short batches, paused while the database is unhealthy. Rollback: the column is dropped."
    ),
)


@schema_step(
    phase1.CONTENT_TSV_INDEX,
    deps=["content_tsv_backfill"],
    description=(
        "GIN index on messages.content_tsv, built concurrently (writers are never blocked), so `content_tsv @@ "
        "query` replaces ILIKE scans. Rollback: DROP INDEX CONCURRENTLY."
    ),
)
def content_tsv_index(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """Built after the backfill, so the index is built once over complete data."""
