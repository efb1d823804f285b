"""Checks of the feed candidate tables: present, fresh, in range, and faithful to CDC state."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from dbopt.clickhouse import candidates
from pipelines.clickhouse_steps import POOL, check_result, connect
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

STALE_AFTER = timedelta(hours=36)
REBUILD = "Materialize the feed candidates again (refresh_feed_candidates); the live table is replaced only when " \
          "the new build passes."


def _checks(table: str) -> list[dg.AssetChecksDefinition]:
    followees = table == candidates.FOLLOWEES

    @dg.asset_check(asset=table, name="non_empty_and_fresh", pool=POOL,
                    description="Rows exist, all for one as_of, none created after it; warns when as_of is older "
                                "than 36 hours (the refresh schedule is off or failing).")
    @operator_errors
    def non_empty_and_fresh(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
        """An empty or mixed table would give users an empty or inconsistent feed."""
        ch, _ddl = connect(clickhouse)
        found = candidates.findings(ch, table, followees=followees)
        structural = [f for f in found["failed"] if "score" not in f and "deleted" not in f and "follow" not in f]
        as_of = found["as_of"]
        stale = bool(as_of) and as_of < datetime.now(UTC) - STALE_AFTER
        return check_result(
            not structural and not stale,
            severity=dg.AssetCheckSeverity.WARN if not structural else dg.AssetCheckSeverity.ERROR,
            figures={"rows": found["rows"], "as_of": as_of.isoformat() if as_of else "-", "problems": len(structural),
                     "stale": stale},
            offending=[{"problem": f} for f in structural] or [{"problem": f"as_of {as_of} is older than 36 hours"}],
            next_step=REBUILD,
        )

    @dg.asset_check(asset=table, name="scores_in_range", pool=POOL,
                    description="freshness, engagement, affinity and combined scores are all in [0, 1].")
    @operator_errors
    def scores_in_range(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
        """Ranking mixes the scores by weight, which only makes sense on one scale."""
        ch, _ddl = connect(clickhouse)
        found = candidates.findings(ch, table, followees=followees)
        bad = found["samples"].get("scores_out_of_range", [])
        return check_result(not bad, figures={"rows": found["rows"], "rows_out_of_range_sampled": len(bad)},
                            offending=bad, next_step="Check the weights and saturations in the run config (all must "
                            "be non-negative, saturations positive), then " + REBUILD[0].lower() + REBUILD[1:])

    @dg.asset_check(asset=table, name="no_deleted_posts_or_unfollowed_authors", pool=POOL,
                    description="No candidate is a post deleted at as_of (its latest posts_cdc row is a delete)"
                                + (", and every (user, author) pair is a current follow at as_of." if followees
                                   else "."))
    @operator_errors
    def no_deleted(clickhouse: ClickHouseResource) -> dg.AssetCheckResult:
        """CDC semantics: the latest version of a key is its state, so a deleted post must not be shown."""
        ch, _ddl = connect(clickhouse)
        found = candidates.findings(ch, table, followees=followees)
        bad = [dict(r, problem="deleted post") for r in found["samples"].get("deleted_posts", [])]
        bad += [dict(r, problem="not a current follow") for r in found["samples"].get("unfollowed_authors", [])]
        return check_result(not bad, figures={"rows": found["rows"], "offending_sampled": len(bad)}, offending=bad,
                            next_step="Look at the listed keys' latest rows in posts_cdc / follows_cdc (two rows with "
                            "the same version?), then " + REBUILD[0].lower() + REBUILD[1:])

    return [non_empty_and_fresh, scores_in_range, no_deleted]


followees_checks = _checks(candidates.FOLLOWEES)
trending_checks = _checks(candidates.TRENDING)
affinity_checks = _checks(candidates.AFFINITY)
