"""The plan's cache alert: "Cache hit rate < 70%", over the last interval (not since Redis started)."""

import dagster as dg
from pydantic import Field

from dbopt.monitoring.alerts import CACHE_HIT_RATE
from pipelines.alert_checks import Measurement, alert_check, alert_result


class CacheHitRateAlertConfig(dg.Config):
    hit_rate_pct_below: float = Field(default=CACHE_HIT_RATE.threshold, description="Fire when the hit rate is below this (%).")
    min_lookups: int = Field(
        default=100, description="Fewer lookups in the interval are too few to judge (the check passes with a note)."
    )


@alert_check(
    CACHE_HIT_RATE,
    CacheHitRateAlertConfig,
    description=(
        f"Alert: cache hit rate below {CACHE_HIT_RATE.threshold:g}% (the plan), as hits / (hits + misses) over the "
        "interval since the previous sample. Its sensor launches the cache warm-up (warm_cache)."
    ),
)
def cache_hit_rate_alert(measured: Measurement, config: CacheHitRateAlertConfig) -> dg.AssetCheckResult:
    rate, lookups = measured.get("hit_rate_pct"), measured.get("lookups")
    note = ""
    if lookups is None:
        note = measured.get("window") or "no interval yet"
    elif lookups < config.min_lookups:
        rate, note = None, f"only {lookups} lookups in the interval; judging needs at least {config.min_lookups}"
    return alert_result(
        CACHE_HIT_RATE,
        measured,
        value=rate,
        threshold=config.hit_rate_pct_below,
        note=note,
        offending=[{k: measured.get(k) for k in ("hit_rate_pct", "hits", "misses", "interval_s", "evicted_keys",
                                                 "keys", "since_start_hit_rate_pct", "invalidation_errors")}],
        next_step=(
            "warm_cache refills the hot entries (the sensor launches it). If the rate stays low, look at evicted_keys "
            "(maxmemory too small) and at TTLs shorter than the access interval. invalidation_errors counts writes whose "
            "cache invalidation Redis missed (their keys were stale until their TTL)."
        ),
    )
