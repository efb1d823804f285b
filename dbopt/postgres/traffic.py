"""Application-like write traffic on real connections, for tests and benchmarks.

Threads keep writing without pause while a rollout runs: messages into the hot
conversation and into random ones, members joining and leaving, content edits. Every
operation is its own transaction, as in the services; latencies and errors are recorded,
and a monitor measures how long any writer waited on a lock.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import psycopg

from dbopt.postgres.connect import connection_kwargs

KINDS = ("send_hot", "send_random", "members", "edit")
WORDS = "deploy invoice meeting lunch release cache feed search photo coffee call later thanks".split()


@dataclass
class TrafficStats:
    ops: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    samples: list[tuple[float, float]] = field(default_factory=list)  # (wall-clock start, latency ms)
    inserted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # conversation -> message ids
    members_added: int = 0
    members_removed: int = 0
    edits: dict[str, str] = field(default_factory=dict)  # message id -> last content written
    max_lock_wait_ms: float = 0.0
    lock_waits: int = 0

    def all_latencies(self) -> list[float]:
        return [x for values in self.latencies_ms.values() for x in values]

    @staticmethod
    def percentile(values: list[float], p: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[k]


class Traffic:
    def __init__(
        self,
        url: str,
        *,
        kinds: tuple[str, ...] = KINDS,
        threads_per_kind: int = 1,
        seed: int = 0,
        pause_s: float = 0.0,
        monitor_locks: bool = True,
    ) -> None:
        self.url = url
        self.kinds = kinds
        self.threads_per_kind = threads_per_kind
        self.pause_s = pause_s
        self.stats = TrafficStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._rng = random.Random(seed)
        self._monitor_locks = monitor_locks
        with psycopg.connect(url) as conn:
            hot = conn.execute(
                "SELECT conversation_id FROM messages GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()
            self.conversations = [r[0] for r in conn.execute("SELECT id FROM conversations").fetchall()]
            self.hot = hot[0] if hot else self.conversations[0]
            self.messages = [r[0] for r in conn.execute("SELECT id FROM messages ORDER BY random() LIMIT 5000")]

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Traffic:
        for kind in self.kinds:
            for i in range(self.threads_per_kind):
                t = threading.Thread(target=self._loop, args=(kind, self._rng.random()), name=f"traffic-{kind}-{i}")
                t.start()
                self._threads.append(t)
        if self._monitor_locks:
            t = threading.Thread(target=self._watch_locks, name="traffic-lock-monitor")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> TrafficStats:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
        return self.stats

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the writers -----------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, **connection_kwargs("app-writer", single_core=False))

    def _loop(self, kind: str, seed: float) -> None:
        rng = random.Random(seed)
        conn = self._connect()
        try:
            while not self._stop.is_set():
                wall = time.time()
                started = time.perf_counter()
                try:
                    self._one(conn, kind, rng)
                except psycopg.Error as exc:
                    with self._lock:
                        self.stats.errors.append(f"{kind}: {str(exc).splitlines()[0]}")
                    if conn.closed or conn.broken:
                        conn = self._connect()
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with self._lock:
                    self.stats.ops[kind] += 1
                    self.stats.latencies_ms[kind].append(elapsed)
                    self.stats.samples.append((wall, elapsed))
                if self.pause_s:
                    self._stop.wait(self.pause_s)
        finally:
            conn.close()

    def _one(self, conn: psycopg.Connection, kind: str, rng: random.Random) -> None:
        if kind in ("send_hot", "send_random"):
            conversation = self.hot if kind == "send_hot" else rng.choice(self.conversations)
            message_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO messages (id, conversation_id, sender_id, content) VALUES (%s, %s, %s, %s)",
                (message_id, conversation, str(uuid.uuid4()), " ".join(rng.choices(WORDS, k=5))),
            )
            with self._lock:
                self.stats.inserted[str(conversation)].append(message_id)
        elif kind == "members":
            conversation = rng.choice(self.conversations)
            if rng.random() < 0.5:
                conn.execute(
                    "INSERT INTO conversation_members (conversation_id, user_id) VALUES (%s, %s)",
                    (conversation, str(uuid.uuid4())),
                )
                with self._lock:
                    self.stats.members_added += 1
            else:
                row = conn.execute(
                    "DELETE FROM conversation_members WHERE (conversation_id, user_id) IN "
                    "(SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id = %s LIMIT 1) "
                    "RETURNING user_id",
                    (conversation,),
                ).fetchone()
                if row:
                    with self._lock:
                        self.stats.members_removed += 1
        elif kind == "edit":
            message_id = rng.choice(self.messages)
            content = "edited " + " ".join(rng.choices(WORDS, k=4))
            conn.execute(
                "UPDATE messages SET content = %s, updated_at = now(), version_number = version_number + 1 "
                "WHERE id = %s",
                (content, message_id),
            )
            with self._lock:
                self.stats.edits[str(message_id)] = content
        else:
            raise ValueError(kind)

    # -- lock waits ------------------------------------------------------------------------
    def _watch_locks(self) -> None:
        """Poll for writers waiting on a lock; the longest continuous wait is kept (±10 ms)."""
        conn = psycopg.connect(self.url, autocommit=True, **connection_kwargs("dbopt-lock-monitor"))
        waiting_since: dict[int, float] = {}
        try:
            while not self._stop.is_set():
                now = time.perf_counter()
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'app-writer' AND wait_event_type = 'Lock'"
                ).fetchall()
                current = {r[0] for r in rows}
                for pid in current:
                    waiting_since.setdefault(pid, now)
                for pid in list(waiting_since):
                    if pid not in current:
                        waited = (now - waiting_since.pop(pid)) * 1000
                        with self._lock:
                            self.stats.lock_waits += 1
                            self.stats.max_lock_wait_ms = max(self.stats.max_lock_wait_ms, waited)
                self._stop.wait(0.01)
        finally:
            conn.close()
