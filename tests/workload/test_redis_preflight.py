"""redis_preflight (issue 15) on real redis-servers: a maxmemory too small for the cache with
noeviction is a no-go that stops warm_cache before any key is written; with an evicting
policy it is a warning; an unreachable Redis and a bad setting are one sentence each.

The servers whose config these tests set are started here, never the shared system Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dbopt import redis_preflight
from dbopt.embedded import free_port
from dbopt.embedded.redis import redis_server_binary
from dbopt.errors import DboptError
from dbopt.preflight import Verdict

SMALL = 2 * 1024 * 1024  # 2 MiB of maxmemory: the default hot set (about 2 MiB) does not fit


@pytest.fixture
def small_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test only: 2 MiB maxmemory, noeviction, nothing persisted."""
    port = free_port()
    proc = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--maxmemory", str(SMALL), "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp_path, ignore_errors=True)


def _findings(url: str, **expectation) -> dict[str, redis_preflight.Finding]:
    client = redis.Redis.from_url(url)
    try:
        found = redis_preflight.findings(lambda: client, redis_preflight.Expectation(**expectation))
    finally:
        client.close()
    return {f.name: f for f in found}


def test_small_maxmemory_with_noeviction_is_a_no_go_and_warm_cache_writes_nothing(small_redis) -> None:
    from pipelines.definitions import defs
    from tests.monitoring.conftest import resources

    found = _findings(small_redis)
    memory = found["redis_memory"]
    assert memory.verdict is Verdict.NO_GO
    assert "maxmemory is 2.0 MiB" in memory.sentence and "noeviction" in memory.sentence
    assert "raise maxmemory to at least" in memory.sentence
    assert found["redis_eviction_policy"].verdict is Verdict.WARN

    result = defs.resolve_job_def("warm_cache").execute_in_process(
        # PostgreSQL points nowhere: the warm-up that would read it never starts.
        resources=resources(redis=small_redis), raise_on_error=False,
        run_config={"ops": {"redis_preflight": {"config": {"conversations": 2000, "posts": 5000,
                                                            "use_postgres_row_counts": False}}}})
    evaluations = {e.event_specific_data.check_name: e.event_specific_data for e in result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert not evaluations["redis_memory"].passed
    assert evaluations["redis_memory"].severity.value == "ERROR"
    materialized = {e.event_specific_data.materialization.asset_key.to_user_string() for e in result.all_events
                    if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert materialized == {"redis_preflight"}
    assert redis.Redis.from_url(small_redis).dbsize() == 0  # not a key written


def test_with_an_evicting_policy_it_is_a_warning_measured_on_real_keys(small_redis) -> None:
    client = redis.Redis.from_url(small_redis)
    client.config_set("maxmemory-policy", "allkeys-lru")  # this test's own server
    for i in range(30):
        client.set(f"post:{i}", "x" * 4000, ex=300)
    client.close()
    found = _findings(small_redis, posts=2000)
    memory = found["redis_memory"]
    assert memory.verdict is Verdict.WARN and "allkeys-lru will evict" in memory.sentence
    post = next(d for d in memory.details if d["kind"] == "post")
    assert post["bytes per key"] > 4000  # measured with MEMORY USAGE, not the 700 B default
    assert found["redis_eviction_policy"].verdict is Verdict.GO
    roomy = _findings(small_redis, conversations=1, posts=1)
    assert roomy["redis_memory"].verdict is Verdict.GO


def test_unreachable_redis_and_a_bad_setting_are_one_sentence() -> None:
    def refused():
        raise DboptError("Cannot reach Redis at redis://127.0.0.1:1/0 (refused); check that it runs and that "
                         "REDIS_URL is right.")

    found = redis_preflight.findings(refused)
    assert [f.verdict for f in found] == [Verdict.NO_GO, Verdict.WARN, Verdict.WARN]
    assert found[0].sentence.startswith("Cannot reach Redis")
    with pytest.raises(DboptError) as bad:
        redis_preflight.Expectation(max_share=2).validate()
    assert str(bad.value).startswith("max_share is 2, but it is a share of maxmemory;")
    assert "\n" not in str(bad.value)
