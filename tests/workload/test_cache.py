"""The Phase 4 cache on a real Redis: cache-aside, TTLs, invalidation on write, and pattern
invalidation with SCAN + UNLINK while another client keeps reading."""

from __future__ import annotations

import socket
import threading
import uuid

import redis

from dbopt.cache import TTL_S, Keys, QueryCache, jsonable


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def test_plan_ttls_per_entity() -> None:
    assert TTL_S == {"post": 300, "conversation": 120, "profile": 600, "feed": 60, "history": 30}


def test_get_or_fetch_reads_through_once_and_counts(redis_url: str) -> None:
    cache = QueryCache(client(redis_url))
    calls = []
    row = {"id": uuid.uuid4(), "n": 1, "blob": b"\x00\x01", "when": None}

    def fetch():
        calls.append(1)
        return row

    first = cache.cached("post", cache.keys.post(row["id"]), fetch)
    second = cache.cached("post", cache.keys.post(row["id"]), fetch)
    assert first is row and second == jsonable(row) and len(calls) == 1
    assert (cache.stats.hits, cache.stats.misses) == (1, 1) and cache.stats.hit_rate == 0.5
    ttl = cache.client.ttl(cache.keys.post(row["id"]))
    assert 0 < ttl <= TTL_S["post"]


def test_a_send_drops_the_conversation_and_every_cached_history_page(redis_url: str) -> None:
    cache = QueryCache(client(redis_url), keys=Keys("app:"))
    conv, other = uuid.uuid4(), uuid.uuid4()
    for c in (conv, other):
        cache.cached("conversation", cache.keys.conversation(c), lambda: {"members": 2})
        for page in ("first", "cursor-a", "cursor-b"):
            cache.cached("history", cache.keys.history(c, page), lambda: [1, 2, 3], tag=cache.keys.history_tag(c))
    dropped = cache.on_new_message(conv)
    assert dropped == 4
    r = cache.client
    assert not r.exists(cache.keys.conversation(conv), cache.keys.history(conv, "first"), cache.keys.history_tag(conv))
    assert r.exists(cache.keys.conversation(other), cache.keys.history(other, "cursor-b")) == 2
    assert r.smembers(cache.keys.history_tag(other))  # the other conversation keeps its tag


def test_reads_fall_through_to_the_database_when_redis_is_down() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = QueryCache(redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5))
    assert cache.cached("feed", "feed:u", lambda: [1]) == [1]
    assert cache.stats.errors == 2 and cache.stats.misses == 1  # the GET and the SET failed, the read did not


def test_pattern_invalidation_scans_in_batches_while_another_client_reads(redis_url: str) -> None:
    r = client(redis_url)
    pipe = r.pipeline(transaction=False)
    for i in range(100_000):
        prefix = "gone" if i % 2 else "kept"
        pipe.set(f"t:{prefix}:{i}", "x", ex=600)
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    assert r.dbsize() == 100_000
    before = r.info("commandstats")

    stop, started, reads, errors = threading.Event(), threading.Event(), [0], []
    during = [0]

    def reader() -> None:
        rc = client(redis_url)
        i = 0
        while not stop.is_set():
            try:
                assert rc.get(f"t:kept:{(i * 2) % 100_000}") == b"x"
            except Exception as exc:  # a failed or wrong read is the finding
                errors.append(repr(exc))
            reads[0] += 1
            i += 1
            started.set()

    thread = threading.Thread(target=reader)
    thread.start()
    started.wait(10)
    at_start = reads[0]
    cache = QueryCache(client(redis_url), scan_batch=1000)
    dropped = cache.invalidate_pattern("t:gone:*")
    during[0] = reads[0] - at_start
    stop.set()
    thread.join(10)

    after = r.info("commandstats")
    calls = lambda stats, cmd: stats.get(f"cmdstat_{cmd}", {}).get("calls", 0)  # noqa: E731
    assert dropped == 50_000
    assert r.dbsize() == 50_000 and not list(r.scan_iter("t:gone:*", count=5000))
    assert not errors
    assert during[0] > 0  # the other client was served while the invalidation ran
    assert calls(after, "keys") == calls(before, "keys")  # never KEYS
    assert calls(after, "scan") - calls(before, "scan") >= 50  # a walk in batches
    assert calls(after, "unlink") - calls(before, "unlink") >= 25  # deletes in batches too


def test_a_send_succeeds_when_redis_dies_during_the_writes(seeded_pg_url: str, tmp_path) -> None:
    """Invalidation runs after the commit: with Redis killed while four writers send, every send
    returns normally (no retry of a send that went through), each failed invalidation is
    counted, and reads fall back to the database."""
    import os
    import signal

    import psycopg

    from dbopt import urls
    from dbopt.embedded import pid_alive
    from dbopt.embedded.redis import EmbeddedRedis
    from dbopt.workload import samples, service

    server = EmbeddedRedis(tmp_path / "redis")
    server.ensure_running()
    try:
        cache = QueryCache(urls.redis_client(urls.redis(server.url()), socket_timeout=2), keys=Keys("app:"))
        with psycopg.connect(seeded_pg_url) as conn:
            convs = [c for c in samples.conversations(conn) if c.member][:4]
            before = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert len(convs) == 4
        for c in convs:  # cached entries that the sends must invalidate
            cache.cached("conversation", cache.keys.conversation(c.id), lambda c=c: {"messages": c.messages})
        sends, up, down = 5, threading.Barrier(5, timeout=60), threading.Barrier(5, timeout=60)
        failures: list[BaseException] = []

        def writer(c) -> None:
            try:
                with psycopg.connect(seeded_pg_url) as conn:
                    for phase in (up, down):
                        for _ in range(sends):
                            service.send_old(conn, c.id, c.reader, rollback=False)  # committed
                            cache.on_new_message(c.id)  # then invalidated: must not raise
                        if phase is up:
                            up.wait()
                            down.wait()
            except BaseException as exc:  # noqa: BLE001 - any failure of a send fails the test
                failures.append(exc)
                up.abort()
                down.abort()

        threads = [threading.Thread(target=writer, args=(c,)) for c in convs]
        for t in threads:
            t.start()
        up.wait()  # every writer has sent with Redis up
        errors_while_up = cache.stats.invalidation_errors
        pid = server.running_pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not pid_alive(pid):
                break
            threading.Event().wait(0.05)
        assert not pid_alive(pid)
        down.wait()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert not failures, failures
        with psycopg.connect(seeded_pg_url) as conn:
            assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == before + 4 * 2 * sends
            fresh = conn.execute("SELECT count(*) FROM messages WHERE conversation_id = %s", (convs[0].id,)).fetchone()[0]
        assert errors_while_up == 0
        # Each send after the kill: the conversation key and its history tag, both refused.
        assert cache.stats.invalidation_errors == 4 * sends * 2
        assert cache.stats.as_dict()["invalidation_errors"] == 4 * sends * 2
        reads = cache.stats.misses
        answer = cache.cached("conversation", cache.keys.conversation(convs[0].id), lambda: {"messages": fresh})
        assert answer == {"messages": fresh} and cache.stats.misses == reads + 1  # from the database
    finally:
        server.stop()


def test_missed_invalidations_reach_the_cache_alert_once_redis_answers(redis_url: str) -> None:
    """The count lives in Redis (read by monitor_postgres_and_redis next to the hit rate), added
    by the first invalidation that succeeds after the failures."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from dbopt.cache import INVALIDATION_ERRORS_KEY
    from dbopt.monitoring import redis_stats

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = QueryCache(redis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0)), keys=Keys("app:"))
    conv = uuid.uuid4()
    assert cache.on_new_message(conv) == 0 and cache.on_new_message(conv) == 0
    assert cache.stats.invalidation_errors == 4
    live = client(redis_url)
    assert live.get(INVALIDATION_ERRORS_KEY) is None
    cache.client = live  # Redis is back
    cache.cached("history", cache.keys.history(conv, "first"), lambda: [1], tag=cache.keys.history_tag(conv))
    assert cache.on_new_message(conv) == 1
    assert int(live.get(INVALIDATION_ERRORS_KEY)) == 4
    assert redis_stats.sample(live)["invalidation_errors"] == 4
    cache.on_new_message(conv)
    assert int(live.get(INVALIDATION_ERRORS_KEY)) == 4  # reported once
