"""Checks of the rollups against a recomputation from the CDC tables."""

import dagster as dg

from dbopt.clickhouse import rollups
from pipelines.clickhouse_steps import POOL, check_result, connect
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

SAMPLE = 50


def _rollup_check(rollup: rollups.Rollup) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=rollup.name,
        name=f"{rollup.name}_matches_cdc",
        blocking=True,
        pool=POOL,
        description=(
            f"For a sample of {SAMPLE} {rollup.sample_column}s, every {rollup.name} row ({', '.join(rollup.key)}) equals "
            f"the sum recomputed from {', '.join(rollup.sources)} over the months the CDC tables still hold."
        ),
    )
    @operator_errors
    def check(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
        """Proves the views and the backfill together counted each event exactly once."""
        ch, _ddl = connect(clickhouse)
        result = rollups.compare_sample(ch, rollup, SAMPLE)
        return check_result(
            not result.mismatches and result.ids > 0,
            figures={"sampled_ids": result.ids, "rows_compared": result.rows, "mismatches": len(result.mismatches),
                     "compared_since": result.since.isoformat()},
            offending=result.mismatches,
            next_step=f"Materialize {rollup.name} again: it reconciles the rollup with the CDC tables and corrects "
                      f"every difference it sees twice (e.g. likes that arrived before their post's CDC row).",
        )

    return check


post_metrics_1h_matches_cdc = _rollup_check(rollups.POST_METRICS_1H)
user_author_90d_matches_cdc = _rollup_check(rollups.USER_AUTHOR_90D)
