"""Phase 1.2, "Materializes user_author_90d and post_metrics_1h views"."""

import functools

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import catalog, ledger, rollups
from pipelines.clickhouse_steps import PHASE1, connect, run_lock, sql_references, step_ledger
from pipelines.failures import operator_errors
from pipelines.metadata import table_keys
from pipelines.resources import ClickHouseResource

COMMON_SQL = (
    "clickhouse/phase1/feed_rollups/030_create_source_view.sql",
    "clickhouse/phase1/feed_rollups/045_diff.fragment.sql",
    "clickhouse/phase1/feed_rollups/046_insert_diff.sql",
    "clickhouse/phase1/feed_rollups/048_confirm.sql",
)


class RollupConfig(dg.Config):
    rebuild: bool = Field(
        default=False,
        description="Drop and build a finished rollup again. Rarely needed: materializing a finished rollup "
        "reconciles it with the CDC tables, which repairs it in place. While it rebuilds, readers see the history "
        "fill up month by month.",
    )
    inflight_wait_s: float = Field(
        default=60, description="How long the reconcile waits for INSERTs running while it observes a difference."
    )
    max_reconcile_passes: int = Field(
        default=4, description="Reconcile passes (observe, wait, observe again, correct) before the step fails."
    )


def _build(context: dg.AssetExecutionContext, clickhouse: ClickHouseResource, config: RollupConfig,
           rollup: rollups.Rollup) -> dg.MaterializeResult:
    ch, ddl = connect(clickhouse)
    record = step_ledger(context, ch, ddl)
    step = f"clickhouse.{rollup.name}"
    done = {s["step"]: s for s in ledger.read_status(ch)}.get(step, {}).get("state") == "succeeded"
    options = {"log": context.log.info, "inflight_wait_s": config.inflight_wait_s,
               "max_passes": config.max_reconcile_passes}
    with run_lock(context, ch, ddl), record.step(step, ledger.steps_checksum(rollup.create, *COMMON_SQL)) as summary:
        if done and rollups.is_built(ch, rollup) and not config.rebuild:
            context.log.info(f"{rollup.name} is built and fed by its views; reconciling it with the CDC tables")
            report = rollups.reconcile(ch, ddl, rollup, **options)
        else:
            report = rollups.build(ch, ddl, rollup, **options)
        summary.update(report.as_dict())
    figures = report.as_dict()
    return dg.MaterializeResult(metadata={
        "action": figures["action"],
        "views_created_at": figures["views_created_at"] if report.action == "built" else "(earlier build)",
        "months": dg.MetadataValue.int(figures["months"]),
        "backfilled_rows": dg.MetadataValue.int(figures["backfilled_rows"]),
        "corrected_rows": dg.MetadataValue.int(figures["corrected_rows"]),
        "unconfirmed_rows": dg.MetadataValue.int(figures["unconfirmed_rows"]),
        "reconcile_passes": dg.MetadataValue.int(figures["reconcile_passes"]),
        "rollup_rows": dg.MetadataValue.int(figures["rollup_rows"]),
        "seconds": dg.MetadataValue.float(figures["seconds"]),
        "views": dg.MetadataValue.md("\n".join(f"- {v}" for v in [rollup.mv, *map(rollup.view, rollup.sources)])),
        **table_keys(f"{ch.database}.{rollup.name}", figures["rollup_rows"], catalog.column_types(ch, rollup.name)),
    })


def _rollup_step(rollup: rollups.Rollup, *, description: str):
    """A Phase 1.2 asset that builds `rollup` (see `_build`) after the CDC repartition. The decorated
    function gives the asset its name, docstring and code reference; its body is not run."""

    def decorate(fn):
        @functools.wraps(fn)
        def body(context: dg.AssetExecutionContext, config: RollupConfig,
                 clickhouse: ClickHouseResource) -> dg.MaterializeResult:
            return _build(context, clickhouse, config, rollup)

        return dg.asset(**PHASE1, deps=["cdc_partitioning"], metadata=sql_references(rollup.create, *COMMON_SQL),
                        description=description)(operator_errors(body))

    return decorate


@_rollup_step(
    rollups.POST_METRICS_1H,
    description=(
        "Creates post_metrics_1h (SummingMergeTree per post and hour: net likes, comments, shares, and impressions), "
        "fed by post_metrics_1h_mv through one view per CDC table, created open so every insert counts from then on; "
        "backfills the history month by month without POPULATE, then reconciles with the CDC tables (differences seen "
        "twice are corrected). Materializing it again reconciles. New objects only; each CDC insert writes a few rollup rows. Read with GROUP BY and sum(). Rollback: "
        "010_post_metrics_1h_rollback.sql (in rollback_phase1_clickhouse)."
    ),
)
def post_metrics_1h(context: dg.AssetExecutionContext, config: RollupConfig,
                    clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Trending reads hourly sums instead of scanning every like and impression."""


@_rollup_step(
    rollups.USER_AUTHOR_90D,
    description=(
        "Creates user_author_90d (SummingMergeTree per user, author and day: net likes, comments, shares; rows expire "
        "after 91 days), fed by user_author_90d_mv, which looks up each interaction's post author in posts_cdc; "
        "views created open, then the last 90 days backfilled and reconciled with the CDC tables; materializing it "
        "again reconciles (e.g. likes that arrived before their post's CDC row). New objects only. Read with WHERE day > "
        "today() - 90 GROUP BY user_id, author_id. Rollback: 020_user_author_90d_rollback.sql."
    ),
)
def user_author_90d(context: dg.AssetExecutionContext, config: RollupConfig,
                    clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Affinity reads one row per user and author instead of joining 90 days of events."""
