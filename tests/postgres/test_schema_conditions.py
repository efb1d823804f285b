"""The triggers and the rollback under production conditions: retried sends, other
search_paths, moved messages, TRUNCATE, and a rollback while the application writes and a
report holds a snapshot. Real servers, real threads."""

from __future__ import annotations

import threading
import uuid

import psycopg

from dbopt.postgres.traffic import Traffic
from tests.postgres.conftest import failures, run_job

CONFIRM = {"ops": {"rollback_postgres_schema": {"config": {"confirm": "rollback"}}}}
WAIT_S = 60  # bound on every wait for a helper thread


class Snapshot(threading.Thread):
    """A report: a REPEATABLE READ transaction that read `messages` and stays open until told."""

    def __init__(self, url: str) -> None:
        super().__init__(name="report-snapshot")
        self.url = url
        self.holding = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url) as conn:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                conn.execute("SELECT count(*) FROM messages").fetchone()
                self.holding.set()
                self.release.wait(WAIT_S)
                conn.rollback()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.holding.set()


def test_rollback_while_four_writers_insert_and_a_snapshot_is_held(phase1_pg_url: str) -> None:
    """Each rollback step leaves a schema the application can write to: zero failed writes."""
    with psycopg.connect(phase1_pg_url) as conn:
        before = {r[0] for r in conn.execute("SELECT id FROM messages").fetchall()}
    traffic = Traffic(phase1_pg_url, kinds=("send_hot", "send_random"), threads_per_kind=2)
    report = Snapshot(phase1_pg_url)
    with traffic:
        report.start()
        assert report.holding.wait(WAIT_S) and report.error is None, report.error
        # The report stays open while the rollback runs its first steps, then ends: the
        # concurrent index drops wait for it, and the writers keep writing meanwhile.
        timer = threading.Timer(3.0, report.release.set)
        timer.start()
        result = run_job(phase1_pg_url, "rollback_phase1_postgres", CONFIRM)
        timer.cancel()
        report.release.set()
        report.join(WAIT_S)
        with traffic._lock:
            sent_during = sum(len(v) for v in traffic.stats.inserted.values())
    assert result.success, failures(result)
    stats = traffic.stats
    assert not stats.errors, f"{len(stats.errors)} failed writes, e.g. {stats.errors[:3]}"
    assert sent_during > 0 and stats.ops["send_hot"] > 0 and stats.ops["send_random"] > 0
    inserted = {uuid.UUID(m) for ids in stats.inserted.values() for m in ids}
    with psycopg.connect(phase1_pg_url) as conn:
        after = {r[0] for r in conn.execute("SELECT id FROM messages").fetchall()}
        columns = {r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attnum > 0 AND NOT attisdropped"
        )}
    assert after == before | inserted  # every row kept, every write landed
    assert "sequence_number" not in columns and "content_tsv" not in columns
