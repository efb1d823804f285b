"""Checks between the content_tsv steps (plan 1.1)."""

import dagster as dg
from pydantic import Field

from dbopt.postgres import phase1, plan_queries
from pipelines import check_scope
from pipelines.postgres_checks import backfill_check, backfill_scope, triggers_enabled
from pipelines.postgres_results import no_rows_check
from pipelines.resources import PostgresResource


class TsvSampleConfig(dg.Config):
    sample_rows: int = Field(
        default=5000,
        description="Messages outside the id ranges this run wrote whose content_tsv is recomputed and compared, drawn "
        "at random (run tag dbopt/checks=full: all of them).",
    )


@dg.asset_check(
    asset="content_tsv_trigger",
    blocking=True,
    description="The trigger messages_content_tsv exists and is enabled.",
)
def content_tsv_trigger_enabled(postgres: PostgresResource) -> dg.AssetCheckResult:
    return triggers_enabled(postgres, ("messages_content_tsv",))


@backfill_check(
    "content_tsv_backfill",
    blocking=True,
    description=(
        "In-database suite (Great Expectations 1.x with the tag dbopt/checks=full, the same queries directly otherwise): no message without content_tsv, and content_tsv equals "
        "to_tsvector(<text_search_config>, content)." + check_scope.DESCRIPTION
    ),
)
def content_tsv_matches_content(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource, config: TsvSampleConfig
) -> dg.AssetCheckResult:
    return no_rows_check(
        postgres,
        table="messages",
        scope=backfill_scope(
            context, postgres, table="messages", backfills=(phase1.content_tsv_backfill("'simple'").name,),
            sample=config.sample_rows, unit="messages",
        ),
        files={
            "messages without content_tsv": "content_tsv/missing.sql",
            "messages whose content_tsv differs from their content": "content_tsv/mismatch.sql",
        },
        render={"ts_config": postgres.ts_config_literal()},
        next_step=(
            "NULLs: rerun the job (the backfill resumes). Mismatches: the text search configuration changed or "
            "content was written with the trigger disabled; roll back content_tsv and run it again."
        ),
    )


@dg.asset_check(
    asset="content_tsv_index",
    blocking=True,
    description="The GIN index is valid and the search query reads messages through an index.",
)
def content_tsv_index_used(postgres: PostgresResource) -> dg.AssetCheckResult:
    query = next(q for q in plan_queries.PLAN_QUERIES if q.path.endswith("message_search.sql"))
    with postgres.connector().connection() as conn:
        args = plan_queries.sample_arguments(conn)
        summary = plan_queries.explain(conn, query, args, render={"ts_config": postgres.ts_config_literal()})
        valid = conn.execute(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('idx_messages_content_tsv')"
        ).fetchone()
    ok = bool(valid and valid[0]) and summary.reads_through_indexes(query.tables)
    metadata = {
        "index_valid": dg.MetadataValue.bool(bool(valid and valid[0])),
        "indexes_used": dg.MetadataValue.text(", ".join(summary.indexes) or "none"),
        "sequential_scans": dg.MetadataValue.text(", ".join(summary.seq_scans) or "none"),
    }
    if not ok:
        metadata["next_step"] = dg.MetadataValue.text("Rerun the job to rebuild the index.")
    return dg.AssetCheckResult(passed=ok, metadata=metadata)
