"""The Redis preflight's findings as blocking checks: a no-go fails with ERROR and stops
warm_cache before it writes a key; a warning is reported and lets it run."""

import dagster as dg

from pipelines.findings_metadata import check_results, check_specs

ASSET = "redis_preflight"
FINDINGS = {
    "redis_reachable": "Redis answers PING at REDIS_URL (or the embedded server).",
    "redis_memory": "maxmemory leaves room for the cache's expected size within max_share.",
    "redis_eviction_policy": "maxmemory-policy can evict cache keys when Redis is full.",
}


@dg.multi_asset_check(specs=check_specs(ASSET, list(FINDINGS), FINDINGS))
def redis_preflight_checks(context: dg.AssetCheckExecutionContext):
    """Reads the findings the asset recorded, so the check and the asset never disagree."""
    yield from check_results(context, ASSET, list(FINDINGS))
