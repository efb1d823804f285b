"""One ClickHouse job at a time per database, whoever starts it: the run lock in
dbopt_run_lock refuses a second run in one sentence naming the first, and a killed run's
lock lapses."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from dbopt.clickhouse import catalog, partitions, runlock
from dbopt.clickhouse.ddl import Ddl
from dbopt.errors import DboptError
from tests.clickhouse.conftest import failure_messages, materializations, run_job


def _live_state(ch) -> tuple[set, set]:
    """Every live post and follow with its latest row (what a clean-up must never lose)."""
    posts = set(ch.rows("SELECT post_id, argMax(created_at, version), max(version) FROM posts_cdc GROUP BY post_id "
                        "HAVING argMax(op, version) != 'd'"))
    follows = set(ch.rows("SELECT follower_id, followee_id, argMax(created_at, version), max(version) FROM follows_cdc "
                          "GROUP BY follower_id, followee_id HAVING argMax(op, version) != 'd'"))
    return posts, follows


def test_two_cleanups_started_together_one_runs_the_other_is_refused(partitioned_ch, ch_url, monkeypatch) -> None:
    ch = partitioned_ch
    state = _live_state(ch)
    # The run that gets the lock waits inside it until the other run has ended, so the two
    # overlap whatever the threads' timing.
    inside, other_done = threading.Event(), threading.Event()
    real_cleanup = partitions.cleanup

    def held_cleanup(*args, **kwargs):
        inside.set()
        assert other_done.wait(120), "the second run never ended"
        return real_cleanup(*args, **kwargs)

    monkeypatch.setattr(partitions, "cleanup", held_cleanup)
    results: dict[str, object] = {}
    start = threading.Barrier(2, timeout=60)

    def launch(name: str) -> None:
        start.wait()
        results[name] = run_job("partition_cleanup", ch_url)

    threads = [threading.Thread(target=launch, args=(n,), daemon=True) for n in ("a", "b")]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while not results and time.monotonic() < deadline:
        time.sleep(0.05)
    other_done.set()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 2 and inside.is_set()

    done = [r for r in results.values() if r.success]
    refused = [r for r in results.values() if not r.success]
    assert len(done) == 1 and len(refused) == 1, "exactly one run may hold the lock"
    (message,) = failure_messages(refused[0])
    assert f"Run {done[0].run_id} (partition_cleanup on " in message
    assert message.rstrip().endswith("then run again.")
    assert materializations(done[0])["partition_maintenance"]["partitions_dropped"] > 0
    assert _live_state(ch) == state, "no live post or follow lost its state"
    assert not catalog.tables(ch, like="dbopt\\_carry\\_%"), "no carry table is left behind"
    assert runlock.holders(ch) == [], "the lock is released"


def test_a_killed_runs_lock_lapses_and_a_live_one_blocks(partitioned_ch, ch_url) -> None:
    ch = partitioned_ch
    ddl = Ddl()
    # A run killed with -9 leaves its claim behind, unreleased; once expired it blocks nobody.
    killed = runlock.RunLock(ch, ddl, run_id="killed-run", job="partition_cleanup", ttl=timedelta(0))
    ddl.run(ch, f"{runlock.DIR}/010_create_run_lock.sql")
    killed._record(released=False)
    assert runlock.holders(ch) == []
    assert run_job("partition_cleanup", ch_url).success

    # A live run's claim blocks every changing ClickHouse job until it is released.
    with runlock.RunLock(ch, ddl, run_id="other-run", job="phase1_clickhouse", host="batch-7"):
        for job, config in (
            ("partition_cleanup", None),
            ("refresh_feed_candidates", None),
            ("rollback_phase1_clickhouse", {"ops": {"rollback_clickhouse": {"config": {"confirm": "rollback"}}}}),
        ):
            result = run_job(job, ch_url, config)
            assert not result.success, job
            assert any("Run other-run (phase1_clickhouse on batch-7) holds dbopt's ClickHouse run lock" in m
                       for m in failure_messages(result)), job
        with pytest.raises(DboptError, match=r"^Run other-run .* then run again\.$"):
            runlock.RunLock(ch, ddl, run_id="third", job="x").acquire()
        dry = run_job("partition_cleanup", ch_url, {"ops": {"partition_maintenance": {"config": {"dry_run": True}}}})
        assert dry.success, "a dry run changes nothing and needs no lock"
    assert runlock.holders(ch) == []
    assert run_job("partition_cleanup", ch_url).success


def test_the_lock_is_renewed_while_a_step_runs(ch) -> None:
    """The claim's expiry moves forward while it is held, so only a stopped run's claim lapses."""
    lock = runlock.RunLock(ch, Ddl(), run_id="r", job="j", ttl=timedelta(seconds=3))
    with lock:
        first = runlock.holders(ch)[0].expires_at
        deadline = time.monotonic() + 30
        while runlock.holders(ch)[0].expires_at == first and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runlock.holders(ch)[0].expires_at > first
    assert runlock.holders(ch) == []
