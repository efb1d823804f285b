"""The plan's cache alert (hit rate < 70%) on a real Redis, driven by real GET traffic, and its
sensor launching the cache warm-up (warm_cache)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import cycle, islice

import redis

from dbopt.monitoring import redis_stats
from dbopt.monitoring.samples import SampleStore
from pipelines.definitions import defs
from tests.monitoring.conftest import (
    Case,
    SensorDriver,
    materialized,
    monitor,
    remedy_flow,
    resources,
    unreachable_pg,
)

READS = 300  # per interval: above the check's min_lookups (100)


def _hot_keys(pg: str, redis_url: str) -> list[str]:
    """The keys a warm-up writes: the hot entities the services read."""
    result = defs.resolve_job_def("warm_cache").execute_in_process(resources=resources(pg=pg, redis=redis_url))
    assert result.success
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter(count=1000)]
    return [k for k in keys if not k.startswith("tag:")]  # tags are sets of history pages, not read


def _reader(client: redis.Redis, keys: list[str]) -> Callable[[], int]:
    def read() -> int:
        """READS real GETs of the hot keys, as the services' reads would; returns the hits."""
        pipe = client.pipeline(transaction=False)
        for key in islice(cycle(keys), READS):
            pipe.get(key)
        return sum(v is not None for v in pipe.execute())

    return read


def test_cache_hit_rate_sensor_launches_warm_cache(instance, seeded_pg_url, redis_url) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = _hot_keys(seeded_pg_url, redis_url)
    assert len(keys) >= 50, keys
    read = _reader(client, keys)
    # The interval of the first evaluation starts here, not at an earlier test's sample of this server.
    redis_stats.measure(client, SampleStore())

    def evaluate():
        read()
        result = monitor(instance, "monitor_postgres_and_redis", pg=seeded_pg_url, redis=redis_url)
        figures = materialized(result, "redis_cache_hit_rate")
        assert figures["lookups"] == READS and "since the previous sample" in figures["window"], figures
        return result

    def flush():  # the cache emptied (a deploy, a failover): every read misses
        client.flushdb()

    def warmed():  # SCAN: EXISTS or GET here would count as lookups of the next interval
        assert set(keys) <= {k.decode() for k in client.scan_iter(count=1000)}

    remedy_flow(
        evaluate,
        Case(SensorDriver(instance, "cache_hit_rate_sensor"), "cache_hit_rate_alert", "warm_cache", flush, warmed,
             good={"pg": seeded_pg_url, "redis": redis_url}, bad={"pg": unreachable_pg(seeded_pg_url), "redis": redis_url},
             expect_value=0.0),
    )


def test_too_few_lookups_are_not_judged(instance, pg_url, redis_url) -> None:
    client = redis.Redis.from_url(redis_url)
    redis_stats.measure(client, SampleStore())
    for i in range(20):  # 20 misses: 0%, but too few lookups to call it an alert
        client.get(f"absent:{i}")
    result = monitor(instance, "monitor_postgres_and_redis", pg=pg_url, redis=redis_url)
    assert materialized(result, "redis_cache_hit_rate")["hit_rate_pct"] == 0.0
    reason = SensorDriver(instance, "cache_hit_rate_sensor").skip()
    assert reason.startswith("Not judged:") and "only 20 lookups" in reason, reason
