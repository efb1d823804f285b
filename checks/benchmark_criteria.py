"""The plan's "Success Criteria", checked on the figures the benchmark assets just measured.

Thresholds are the assets' config (they depend on the hardware); the defaults are the
plan's. A criterion is checked on the code the database's state allows: the phase's new
code after Phase 1 (a miss is an error), the old code before it (a miss is a warning:
that is what the plan sets out to fix).
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from dbopt.workload import report, store
from pipelines.metadata import check_result, table_of

TUNE = ("If the figure is close, the machine may be the limit (set the target in the asset's config); otherwise "
        "see the EXPLAIN plans in docs/benchmarks.md and check that Phase 1's indexes are valid.")


def _figures(run_id: str, metric: str) -> dict[str, Any] | None:
    return store.metric(run_id, metric)


def pick(result: dict[str, Any], preference: Sequence[str]) -> tuple[str | None, dict[str, Any] | None]:
    """The first pattern of `preference` this run measured (the newest code the state allows)."""
    for name in preference:
        figures = result["patterns"].get(name)
        if figures and figures.get("requests"):
            return name, figures
    return None, None


def latency_check(name: str, asset: str, metrics: Sequence[str], preference: Sequence[str], criterion: str):
    @dg.asset_check(name=name, asset=asset, description=(
        f"Success criterion: {criterion}, on {', '.join(metrics)}; measured on the newest code the database allows "
        f"({' > '.join(preference)}); the threshold is the asset's config (p95_target_ms)."))
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        rows, ok, newest = [], True, True
        for metric in metrics:
            result = _figures(context.run.run_id, metric)
            if result is None:
                return check_result(False, figures={"measured": 0}, next_step=f"Materialize {asset} first.")
            limit = float(result["thresholds"].get("p95_ms", 0) or 0)
            pattern, f = pick(result, preference)
            if f is None:
                rows.append({"metric": metric, "pattern": "-", "p95 ms": None, "target ms": limit, "met": False})
                ok = False
                continue
            met = f["errors"] == 0 and f["p95_ms"] <= limit
            newest &= pattern == preference[0]
            ok &= met
            rows.append({"metric": metric, "pattern": pattern, "p95 ms": f["p95_ms"], "target ms": limit,
                         "errors": f["errors"], "met": met})
        severity = dg.AssetCheckSeverity.ERROR if newest else dg.AssetCheckSeverity.WARN
        figures = {f"{r['metric']}.p95_ms": r["p95 ms"] for r in rows if r["p95 ms"] is not None}
        if not newest:
            figures["note"] = "the phase's code cannot run on this database yet: the old code was measured"
        return check_result(ok, figures=figures, offending=[r for r in rows if not r["met"]], next_step=TUNE,
                            severity=severity, measured=table_of(rows))

    return _check


message_send_p95 = latency_check(
    "message_send_p95_within_target", "message_send_benchmark", ("message_send_1k", "message_send_large"),
    ("trigger_insert", "count_then_insert"), "Phase 1, message send latency < 50ms p95")
message_history_p95 = latency_check(
    "message_history_p95_within_target", "message_history_benchmark", ("message_history",),
    ("single_query", "three_queries"), "Phase 2, message history latency < 100ms p95")
feed_generation_p95 = latency_check(
    "feed_generation_p95_within_target", "feed_generation_benchmark", ("feed_generation",),
    ("union_all", "candidates_three_queries", "cdc_three_queries"), "Phase 2, feed generation latency < 100ms p95")
deep_pagination_p95 = latency_check(
    "deep_pagination_p95_within_target", "deep_pagination_benchmark",
    ("deep_pagination", "deep_pagination_last", "deep_pagination_posts"), ("cursor", "offset"),
    "Phase 3, deep pagination latency < 50ms p95 (any page)")
hot_query_p95 = latency_check(
    "hot_query_p95_within_target", "query_cache_benchmark", ("hot_reads",), ("cached",),
    "Phase 4, hot query latency < 30ms p95")


def _hot(context: dg.AssetCheckExecutionContext) -> tuple[dict[str, Any] | None, dict, dict]:
    result = _figures(context.run.run_id, "hot_reads")
    if result is None:
        return None, {}, {}
    return result, result["patterns"].get("uncached") or {}, result["patterns"].get("cached") or {}


@dg.asset_check(asset="query_cache_benchmark", description=(
    "Success criterion of Phase 4: cache hit rate > 70% on the hot workload (the threshold is the asset's config "
    "hit_rate_target); cold misses and the invalidations of the sends count."))
def cache_hit_rate_above_target(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    result, _, cached = _hot(context)
    if result is None or not cached:
        return check_result(False, figures={"measured": 0}, next_step="Materialize query_cache_benchmark first.")
    target = float(result["thresholds"]["hit_rate"])
    rate = float(cached.get("hit_rate") or 0)
    return check_result(rate > target, figures={"hit_rate": rate, "target": target, **cached.get("cache", {})},
                        offending=[{"hit_rate": rate, "target": target}],
                        next_step="Run the warm_cache job, then look at which entities miss: a TTL shorter than the "
                                  "time between reads of an entity cannot hit (plan 4.3).")


@dg.asset_check(asset="query_cache_benchmark", description=(
    "Success criterion of Phase 4: database query load reduced by 50% (threshold: load_reduction_target): the "
    "reads that reached PostgreSQL through the cache against the same stream without it."))
def database_load_reduced(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    result, uncached, cached = _hot(context)
    reduction = report.load_reduction(uncached, cached) if result else None
    if result is None or reduction is None:
        return check_result(False, figures={"measured": 0}, next_step="Materialize query_cache_benchmark first.")
    target = float(result["thresholds"]["load_reduction"])
    un, ca = uncached.get("cache", {}), cached.get("cache", {})
    time_cut = 1 - ca.get("fetch_seconds", 0) / un["fetch_seconds"] if un.get("fetch_seconds") else 0.0
    return check_result(reduction >= target, figures={
        "reads_reduction": round(reduction, 4), "target": target, "db_reads_uncached": un.get("misses", 0),
        "db_reads_cached": ca.get("misses", 0), "db_time_reduction": round(time_cut, 4)},
        offending=[{"reduction": reduction, "target": target}],
        next_step="Raise the hit rate (warm_cache, TTLs) or cache more of the hot reads.")
