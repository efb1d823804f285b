"""Checks of the feed candidate tables: present, fresh, in range, and faithful to CDC state."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from dbopt.clickhouse import candidates
from pipelines.clickhouse_steps import POOL, check_result, connect
from pipelines.failures import operator_errors
from pipelines.resources import ClickHouseResource

STALE_AFTER = timedelta(hours=36)
REBUILD = "Materialize the feed candidates again (refresh_feed_candidates); the live table is replaced only when " \
          "the new build passes."


def _checks(table: str) -> dg.AssetChecksDefinition:
    """The table's three checks from one read of its findings (three ClickHouse queries, not nine)."""
    followees = table == candidates.FOLLOWEES
    specs = [
        dg.AssetCheckSpec("non_empty_and_fresh", asset=table,
                          description="Rows exist, all for one as_of, none created after it; warns when as_of is "
                                      "older than 36 hours (the refresh schedule is off or failing)."),
        dg.AssetCheckSpec("scores_in_range", asset=table,
                          description="freshness, engagement, affinity and combined scores are all in [0, 1]."),
        dg.AssetCheckSpec("no_deleted_posts_or_unfollowed_authors", asset=table,
                          description="No candidate is a post deleted at as_of (its latest posts_cdc row is a delete)"
                                      + (", and every (user, author) pair is a current follow at as_of."
                                         if followees else ".")),
    ]

    @dg.multi_asset_check(specs=specs, name=f"{table}_checks", pool=POOL)
    @operator_errors
    def candidate_checks(clickhouse: ClickHouseResource) -> Iterator[dg.AssetCheckResult]:
        ch, _ddl = connect(clickhouse)
        found = candidates.findings(ch, table, followees=followees)
        yield _non_empty_and_fresh(table, found)
        yield _scores_in_range(table, found)
        yield _no_deleted(table, found)

    return candidate_checks


def _non_empty_and_fresh(table: str, found: dict) -> dg.AssetCheckResult:
    """An empty or mixed table would give users an empty or inconsistent feed."""
    structural = [f for f in found["failed"] if "score" not in f and "deleted" not in f and "follow" not in f]
    as_of = found["as_of"]
    stale = bool(as_of) and as_of < datetime.now(UTC) - STALE_AFTER
    return check_result(
        not structural and not stale,
        severity=dg.AssetCheckSeverity.WARN if not structural else dg.AssetCheckSeverity.ERROR,
        figures={"rows": found["rows"], "as_of": as_of.isoformat() if as_of else "-", "problems": len(structural),
                 "stale": stale},
        offending=[{"problem": f} for f in structural] or [{"problem": f"as_of {as_of} is older than 36 hours"}],
        next_step=REBUILD, check_name="non_empty_and_fresh", asset_key=table,
    )


def _scores_in_range(table: str, found: dict) -> dg.AssetCheckResult:
    """Ranking mixes the scores by weight, which only makes sense on one scale."""
    bad = found["samples"].get("scores_out_of_range", [])
    return check_result(not bad, figures={"rows": found["rows"], "rows_out_of_range_sampled": len(bad)},
                        offending=bad, next_step="Check the weights and saturations in the run config (all must "
                        "be non-negative, saturations positive), then " + REBUILD[0].lower() + REBUILD[1:],
                        check_name="scores_in_range", asset_key=table)


def _no_deleted(table: str, found: dict) -> dg.AssetCheckResult:
    """CDC semantics: the latest version of a key is its state, so a deleted post must not be shown."""
    bad = [dict(r, problem="deleted post") for r in found["samples"].get("deleted_posts", [])]
    bad += [dict(r, problem="not a current follow") for r in found["samples"].get("unfollowed_authors", [])]
    return check_result(not bad, figures={"rows": found["rows"], "offending_sampled": len(bad)}, offending=bad,
                        next_step="Look at the listed keys' latest rows in posts_cdc / follows_cdc (two rows with "
                        "the same version?), then " + REBUILD[0].lower() + REBUILD[1:],
                        check_name="no_deleted_posts_or_unfollowed_authors", asset_key=table)


followees_checks = _checks(candidates.FOLLOWEES)
trending_checks = _checks(candidates.TRENDING)
affinity_checks = _checks(candidates.AFFINITY)
