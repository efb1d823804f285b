"""Phase 1.2, "Creates feed_candidates_followees / _trending / _affinity"."""

import dagster as dg
from pydantic import Field

from dbopt.clickhouse import candidates, catalog, ledger
from dbopt.clickhouse.candidates import Scoring
from pipelines.clickhouse_steps import OWNERS, POOL, connect, run_lock, sql_references, step_ledger, table_of
from pipelines.failures import operator_errors
from pipelines.metadata import table_keys
from pipelines.resources import ClickHouseResource

D = Scoring()
DIR = candidates.DIR
SQL = (
    f"{DIR}/010_create_candidates.sql", f"{DIR}/015_create_work.sql", f"{DIR}/020_posts.sql",
    f"{DIR}/020_window_posts.fragment.sql", f"{DIR}/025_follows.sql", f"{DIR}/030_affinity.sql", f"{DIR}/035_pairs_followees.sql", f"{DIR}/035_pairs_affinity.sql",
    f"{DIR}/040_user_candidates.sql", f"{DIR}/050_trending.sql",
)


class FeedCandidatesConfig(dg.Config):
    """Which instant the candidates describe and how they are scored (docs/clickhouse.md)."""

    as_of: str = Field(default="", description="ISO 8601 instant to build for (UTC); empty: now, to the minute.")
    window_days: int = Field(default=D.window_days, description="Posts created this many days before as_of.")
    affinity_days: int = Field(default=D.affinity_days, description="Interactions counted for affinity.")
    per_user_limit: int = Field(default=D.per_user_limit, description="Candidates kept per user and table.")
    trending_limit: int = Field(default=D.trending_limit, description="Posts in feed_candidates_trending.")
    freshness_half_life_hours: float = Field(default=D.freshness_half_life_hours,
                                             description="Age at which freshness is 0.5.")
    w_freshness: float = Field(default=D.w_freshness, description="Weight of freshness in combined_score.")
    w_engagement: float = Field(default=D.w_engagement, description="Weight of engagement in combined_score.")
    w_affinity: float = Field(default=D.w_affinity, description="Weight of affinity in combined_score.")
    w_like: float = Field(default=D.w_like, description="Weight of a like in engagement and affinity.")
    w_comment: float = Field(default=D.w_comment, description="Weight of a comment in engagement and affinity.")
    w_share: float = Field(default=D.w_share, description="Weight of a share in engagement and affinity.")
    w_impression: float = Field(default=D.w_impression, description="Weight of an impression in engagement.")
    engagement_saturation: float = Field(default=D.engagement_saturation,
                                         description="Weighted engagement at which engagement_score is 0.5.")
    affinity_saturation: float = Field(default=D.affinity_saturation,
                                       description="Weighted interactions at which affinity_score is 0.5.")
    keep_backups: int = Field(default=1, description="Previous builds kept as <table>__backup_<timestamp>.")

    def scoring(self) -> Scoring:
        return Scoring(**{k: getattr(self, k) for k in Scoring.__dataclass_fields__})


DESCRIPTIONS = {
    candidates.FOLLOWEES: "Per user: the window's live posts of the authors the user follows now (follows of any age), "
                          "scored; the best per_user_limit per user.",
    candidates.TRENDING: "For everyone: the window's live posts with the best freshness and engagement.",
    candidates.AFFINITY: "Per user: the window's live posts of authors the user interacted with in the last "
                         "affinity_days but does not follow; the best per_user_limit per user by affinity.",
}
COMMON_TEXT = (
    " Built for as_of into a staging table, checked (non-empty, one as_of, scores in [0, 1], no deleted post, no "
    "unfollowed author), then swapped in with EXCHANGE TABLES: readers see the old or the new table, never a partial "
    "one. The previous build is kept as <table>__backup_<timestamp> (keep_backups). Rollback: swap a backup back, or "
    "rollback_phase1_clickhouse (the plan's DROP TABLE)."
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table,
            deps=["cdc_partitioning"],
            description=DESCRIPTIONS[table] + COMMON_TEXT,
            group_name="phase1_clickhouse",
            kinds={"clickhouse"},
            owners=OWNERS,
            tags={"phase": "1", "system": "clickhouse"},
            metadata=sql_references(*SQL),
        )
        for table in candidates.TABLES
    ],
    pool=POOL,
    can_subset=False,
)
@operator_errors
def feed_candidates(context: dg.AssetExecutionContext, config: FeedCandidatesConfig, clickhouse: ClickHouseResource):
    """The feed reads precomputed candidates with the plan's single UNION ALL query instead of three heavy ones."""
    ch, ddl = connect(clickhouse)
    as_of = candidates.parse_as_of(config.as_of)
    with run_lock(context, ch, ddl), \
            step_ledger(context, ch, ddl).step("clickhouse.feed_candidates", ledger.steps_checksum(*SQL)) as summary:
        report = candidates.build(ch, ddl, config.scoring(), as_of, keep_backups=config.keep_backups,
                                  log=context.log.info, run_id=context.run.run_id)
        summary.update(as_of=as_of.isoformat(), rows=report.rows)
    for table in candidates.TABLES:
        yield dg.MaterializeResult(asset_key=table, metadata={
            "as_of": dg.MetadataValue.timestamp(as_of),
            "rows": dg.MetadataValue.int(report.rows[table]),
            **table_keys(f"{ch.database}.{table}", report.rows[table], catalog.column_types(ch, table)),
            "build_seconds": dg.MetadataValue.float(report.seconds[table]),
            "backup": dg.MetadataValue.text(report.backups.get(table) or "none (first build)"),
            "scoring": table_of([{"setting": k, "value": v} for k, v in config.scoring().__dict__.items()]),
        })
