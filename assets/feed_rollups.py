"""Phase 1.2, "Materializes user_author_90d and post_metrics_1h views"."""

import dagster as dg
from pydantic import Field

from dbopt import sqlfiles
from dbopt.clickhouse import ledger, rollups
from pipelines.clickhouse_steps import PHASE1, connect, run_lock, sql_references, step_ledger
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

COMMON_SQL = (
    "clickhouse/phase1/feed_rollups/030_create_source_view.sql",
    "clickhouse/phase1/feed_rollups/040_backfill.sql",
    "clickhouse/phase1/feed_rollups/050_open_source_view.sql",
)


class RollupConfig(dg.Config):
    rebuild: bool = Field(
        default=False,
        description="Drop and rebuild a finished rollup (e.g. after its check failed). While it rebuilds, readers "
        "see the history fill up month by month.",
    )
    late_event_grace_s: float = Field(
        default=30.0, description="Events may reach ClickHouse this late: the month of the start point is "
        "backfilled only this long after it. Later events that arrive during the build are counted after a rebuild.",
    )


def _build(context: dg.AssetExecutionContext, clickhouse: ClickHouseResource, config: RollupConfig,
           rollup: rollups.Rollup) -> dg.MaterializeResult:
    ch, ddl = connect(clickhouse)
    record = step_ledger(context, ch, ddl)
    step = f"clickhouse.{rollup.name}"
    done = {s["step"]: s for s in ledger.read_status(ch)}.get(step, {}).get("state") == "succeeded"
    if done and rollups.is_built(ch, rollup) and not config.rebuild:
        context.log.info(f"{rollup.name} is built and fed by its views; set rebuild to build it again.")
        rows = int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": rollup.name})) or 0)
        return dg.MaterializeResult(metadata={"action": "already built", "rollup_rows": dg.MetadataValue.int(rows)})
    with run_lock(context, ch, ddl), record.step(step, ledger.steps_checksum(rollup.create, *COMMON_SQL)) as summary:
        report = rollups.build(ch, ddl, rollup, log=context.log.info, grace_s=config.late_event_grace_s)
        summary.update(report.as_dict())
    figures = report.as_dict()
    return dg.MaterializeResult(metadata={
        "action": "built",
        "start_point": figures["start_point"],
        "months_backfilled": dg.MetadataValue.int(figures["months_backfilled"]),
        "events_in_backfilled_months": dg.MetadataValue.int(figures["events_in_backfilled_months"]),
        "events_per_s": dg.MetadataValue.int(figures["events_per_s"]),
        "rollup_rows": dg.MetadataValue.int(figures["rollup_rows"]),
        "views": dg.MetadataValue.md("\n".join(f"- {v}" for v in [rollup.mv, *map(rollup.view, rollup.sources)])),
    })


@dg.asset(
    **PHASE1,
    deps=["cdc_partitioning"],
    metadata=sql_references(rollups.POST_METRICS_1H.create, *COMMON_SQL),
    description=(
        "Creates post_metrics_1h (SummingMergeTree per post and hour: net likes, comments, shares, and impressions), "
        "fed by post_metrics_1h_mv through one view per CDC table; backfills the history before the views' start "
        "point month by month (no POPULATE, so no insert is lost), then lets the views take late events too. New "
        "objects only; each CDC insert writes a few rollup rows. Read with GROUP BY and sum(). Rollback: "
        "010_post_metrics_1h_rollback.sql (in rollback_phase1_clickhouse)."
    ),
)
@operator_errors
def post_metrics_1h(context: dg.AssetExecutionContext, config: RollupConfig,
                    clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Trending reads hourly sums instead of scanning every like and impression."""
    return _build(context, clickhouse, config, rollups.POST_METRICS_1H)


@dg.asset(
    **PHASE1,
    deps=["cdc_partitioning"],
    metadata=sql_references(rollups.USER_AUTHOR_90D.create, *COMMON_SQL),
    description=(
        "Creates user_author_90d (SummingMergeTree per user, author and day: net likes, comments, shares; rows expire "
        "after 91 days), fed by user_author_90d_mv, which looks up each interaction's post author in posts_cdc; "
        "backfills the last 91 days month by month without POPULATE. New objects only. Read with WHERE day > "
        "today() - 90 GROUP BY user_id, author_id. Rollback: 020_user_author_90d_rollback.sql."
    ),
)
@operator_errors
def user_author_90d(context: dg.AssetExecutionContext, config: RollupConfig,
                    clickhouse: ClickHouseResource) -> dg.MaterializeResult:
    """Affinity reads one row per user and author instead of joining 90 days of events."""
    return _build(context, clickhouse, config, rollups.USER_AUTHOR_90D)
