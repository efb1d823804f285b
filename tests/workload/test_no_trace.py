"""The benchmark on a live database: application writers running through its sends, a lock
in the way of its reads, bad config. (The digests before/after a whole run are in test_job.py.)"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import dagster as dg
import psycopg
import pytest

from dbopt.workload import samples
from dbopt.workload.service import BENCH_CONTENT
from pipelines.definitions import defs
from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource

WAIT_S = 60


def materialize(asset: str, pg_url: str, redis_url: str, **config: Any) -> dg.ExecuteInProcessResult:
    """One step of the workload_benchmark job, as the job runs it (ClickHouse unused: points nowhere)."""
    return defs.resolve_job_def("workload_benchmark").execute_in_process(
        resources={"postgres": PostgresResource(database_url=pg_url), "redis": RedisResource(redis_url=redis_url),
                   "clickhouse": ClickHouseResource(clickhouse_url="http://127.0.0.1:9")},
        run_config={"ops": {asset: {"config": {"requests": 4, "warmup": 1, "sample_size": 4, **config}}}},
        op_selection=[asset],
        raise_on_error=False,
    )


def failure(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    return " ".join(e.event_specific_data.error.message for e in result.all_events
                    if e.is_step_failure and e.event_specific_data.error)


def test_application_sends_through_the_benchmark_stay_gapless(phase1_pg_url: str, embedded_redis) -> None:
    """Two application writers send into the conversations the benchmark sends into, from before it starts
    until after it ends: every application send succeeds, numbered 1..n without a gap, and nothing of the
    benchmark's stays."""
    with psycopg.connect(phase1_pg_url) as conn:
        convs = samples.conversations(conn)
    large = samples.largest(convs)
    targets = [large, samples.closest(convs, 1000, exclude=large)]
    stop = threading.Event()
    errors: list[str] = []
    sent = [0, 0]

    def writer(i: int) -> None:
        c = targets[i]
        with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    conn.execute("INSERT INTO messages (id, conversation_id, sender_id, content, message_type) "
                                 "VALUES (%s, %s, %s, 'application message', 'text')", (uuid.uuid4(), c.id, c.reader))
                    sent[i] += 1
                except psycopg.Error as exc:
                    errors.append(str(exc))
                stop.wait(0.002)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    try:
        result = materialize("message_send_benchmark", phase1_pg_url, embedded_redis.url(), writes=10, concurrency=2)
    finally:
        stop.set()
        for t in threads:
            t.join(WAIT_S)
    assert result.success, failure(result)
    assert not errors, errors[:3]
    assert all(sent), sent
    with psycopg.connect(phase1_pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE content = %s", (BENCH_CONTENT,)).fetchone()[0] == 0
        for c, n in zip(targets, sent, strict=True):
            count, lo, hi, distinct, last = conn.execute(
                "SELECT count(*), min(m.sequence_number), max(m.sequence_number), count(DISTINCT m.sequence_number), "
                "max(c.last_sequence_number) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.conversation_id = %s", (c.id,)).fetchone()
            assert count == c.messages + n
            assert (lo, hi, distinct, last) == (1, count, count, count), (c.id, lo, hi, distinct, last, count)


def test_a_read_stuck_behind_a_lock_is_cut_by_statement_timeout(seeded_pg_url: str, embedded_redis) -> None:
    """Another session holds messages in ACCESS EXCLUSIVE mode: the benchmark's reads wait at most
    statement_timeout_s, then the step fails with one sentence; it does not hang."""
    with psycopg.connect(seeded_pg_url) as locker:
        locker.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        result = materialize("conversation_fetch_benchmark", seeded_pg_url, embedded_redis.url(),
                             statement_timeout_s=0.5)
        locker.rollback()
    text = failure(result)
    assert "PostgreSQL cancelled a query of conversation_fetch_benchmark after statement_timeout_s=0.5 s" in text
    assert "raise statement_timeout_s" in text and "nothing was changed" in text


@pytest.mark.parametrize("value", [0, -1, 7200])
def test_a_statement_timeout_out_of_bounds_is_refused_before_any_query(value: float, embedded_redis) -> None:
    """0 would mean no limit to PostgreSQL; refused in one sentence before connecting (this database does
    not exist: a refusal after connecting would say that instead)."""
    result = materialize("conversation_fetch_benchmark", "postgresql://nobody@127.0.0.1:9/none", embedded_redis.url(),
                         statement_timeout_s=value)
    text = failure(result)
    assert f"statement_timeout_s = {value:g} is out of bounds" in text and "Cannot connect" not in text, text
