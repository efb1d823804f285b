"""ClickHouse-only fixtures: generator data in the test's chDB database, and a writer thread.

The writer plays the application: it keeps inserting CDC events from its own thread
(and its own chDB session) while a step runs, and remembers every row it wrote, so a
test can say "every event written is there exactly as many times as it was written".
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from dbopt.clickhouse.client import ClickHouse, connect
from dbopt.seed import seed
from dbopt.seed.scales import scale_for

CDC_TABLES = ("posts_cdc", "likes_cdc", "comments_cdc", "shares_cdc", "follows_cdc", "impressions")

# Each table's key, and the column that marks the writer's rows.
KEYS = {
    "posts_cdc": (("post_id",), "author_id"),
    "likes_cdc": (("post_id", "user_id"), "user_id"),
    "comments_cdc": (("comment_id", "post_id"), "user_id"),
    "shares_cdc": (("post_id", "user_id"), "user_id"),
    "follows_cdc": (("follower_id", "followee_id"), "follower_id"),
    "impressions": (("post_id", "user_id"), "user_id"),
}

TS = "DateTime64(3, 'UTC')"
TUPLES = {
    "posts_cdc": f"Tuple(UUID, UUID, String, {TS}, String, {TS}, UInt64)",
    "likes_cdc": f"Tuple(UUID, UUID, {TS}, String, {TS}, UInt64)",
    "comments_cdc": f"Tuple(UUID, UUID, UUID, {TS}, String, {TS}, UInt64)",
    "shares_cdc": f"Tuple(UUID, UUID, {TS}, String, {TS}, UInt64)",
    "follows_cdc": f"Tuple(UUID, UUID, {TS}, String, {TS}, UInt64)",
    "impressions": f"Tuple(UUID, UUID, {TS})",
}


@pytest.fixture
def seeded_ch(ch: ClickHouse) -> ClickHouse:
    """The test's database with the baseline tables and `tiny` generator data."""
    seed(None, ch, scale_for("tiny"), reset=True, progress=lambda _: None)
    return ch


@pytest.fixture
def partitioned_ch(seeded_ch: ClickHouse) -> ClickHouse:
    """The CDC tables partitioned by month (Phase 1's first step only, for tests that need no more)."""
    from dbopt.clickhouse import repartition
    from dbopt.clickhouse.ddl import Ddl

    for table in CDC_TABLES:
        repartition.repartition(seeded_ch, Ddl(), table)
    return seeded_ch


def counts(ch: ClickHouse, tables=CDC_TABLES) -> dict[str, int]:
    return {t: int(ch.scalar(f"SELECT count() FROM {t}")) for t in tables}


def fingerprint(ch: ClickHouse, table: str) -> tuple[int, int]:
    """Rows and an order-independent hash of every row of a table."""
    n, h = ch.rows(f"SELECT count(), sum(cityHash64(*)) FROM {table}")[0]
    return int(n), int(h)


class EventWriter(threading.Thread):
    """Inserts new events into every CDC table in a loop, from its own thread and session.

    Each batch gives new keys one to three events (create, delete, create again), most
    of them recent and some late, in months a copy has already finished; impressions get
    some rows written twice. `written[table]` counts rows
    per key; `batches` counts finished batches, and `wait_for_batches` lets the step
    under test wait until the writer has really written in between its own statements.
    """

    WRITER = uuid.UUID("00000000-0000-4000-8000-00000000beef")

    def __init__(self, url: str, *, rows_per_table: int = 12, seed_value: int = 7, pause_s: float = 0.1,
                 late_fraction: float = 0.2, recent_span_s: int = 3600, ahead_fraction: float = 0.0,
                 own_posts_fraction: float = 0.0) -> None:
        super().__init__(name="event-writer", daemon=True)
        self.url = url
        self.rows_per_table = rows_per_table
        self.pause_s = pause_s  # pacing only: the writer keeps writing, just not flat out
        self.late_fraction = late_fraction
        self.recent_span_s = recent_span_s  # how far behind the clock "recent" events are stamped
        self.ahead_fraction = ahead_fraction  # events stamped up to two days ahead of the clock
        self.own_posts_fraction = own_posts_fraction  # interactions with posts the writer created
        self.posts: list[tuple[uuid.UUID, datetime]] = []  # the writer's posts and their creation
        self.rng = random.Random(seed_value)
        self.written: dict[str, Counter] = {t: Counter() for t in CDC_TABLES}
        self.batches = 0
        self.redirect: dict[str, str] = {}  # table -> table name to write the next batch into
        self._cond = threading.Condition()
        self._halt = threading.Event()
        self.error: BaseException | None = None

    # rows ------------------------------------------------------------------------------

    def _ts(self) -> datetime:
        """Mostly now, like live traffic; some late, anywhere in the last 14 months."""
        if self.ahead_fraction and self.rng.random() < self.ahead_fraction:
            return datetime.now(UTC) + timedelta(seconds=self.rng.randrange(60, 2 * 86400))
        if self.rng.random() < self.late_fraction:
            return datetime.now(UTC) - timedelta(seconds=self.rng.randrange(0, 420 * 86400))
        return datetime.now(UTC) - timedelta(milliseconds=self.rng.randrange(0, self.recent_span_s * 1000 + 1))

    def _rows(self, table: str) -> list[tuple]:
        rows: list[tuple] = []
        w = self.WRITER
        for _ in range(self.rows_per_table):
            key = (uuid.uuid4(), uuid.uuid4())
            created = self._ts()
            if self.own_posts_fraction and table in ("likes_cdc", "comments_cdc", "shares_cdc") and self.posts \
                    and self.rng.random() < self.own_posts_fraction:
                post = self.rng.choice(self.posts)[0]
                key = (post, key[1]) if table != "comments_cdc" else (key[0], post)
            ops = self.rng.choice((["c"], ["c", "d"], ["c", "d", "c"]))
            for k, op in enumerate(ops):
                # Later ops follow the first, but never beyond the clock unless the event is ahead of it.
                ts = created + timedelta(hours=k)
                ts = ts if created > datetime.now(UTC) else min(ts, datetime.now(UTC))
                version = int(ts.timestamp() * 1000) * 4 + k
                if table == "posts_cdc":
                    rows.append((key[0], w, "image", created, op, ts, version))
                    if k == 0:
                        self.posts.append((key[0], created))
                elif table == "comments_cdc":
                    rows.append((key[0], key[1], w, created, op, ts, version))
                elif table == "follows_cdc":
                    rows.append((w, key[1], created, op, ts, version))
                elif table == "impressions":
                    rows.append((key[0], w, ts))
                    if k == 0 and self.rng.random() < 0.5:
                        rows.append((key[0], w, ts))  # the same impression twice
                else:
                    rows.append((key[0], w, created, op, ts, version))
        return rows

    def _key(self, table: str, row: tuple) -> tuple:
        """The row's key, in the order of KEYS (the table's leading columns)."""
        return tuple(str(v) for v in row[: len(KEYS[table][0])])

    def write_batch(self, client: ClickHouse) -> None:
        for table in CDC_TABLES:
            rows = self._rows(table)
            into = self.redirect.pop(table, table)
            client.command(
                f"INSERT INTO {into} SELECT untuple(r) FROM (SELECT arrayJoin({{rows:Array({TUPLES[table]})}}) AS r)",
                {"rows": rows},
            )
            self.written[table].update(self._key(table, r) for r in rows)
        with self._cond:
            self.batches += 1
            self._cond.notify_all()

    # thread ----------------------------------------------------------------------------

    def run(self) -> None:
        client = connect(self.url)
        try:
            while not self._halt.wait(self.pause_s):
                self.write_batch(client)
        except BaseException as exc:  # reported by stop()
            self.error = exc
            with self._cond:
                self._cond.notify_all()
        finally:
            client.close()

    def wait_for_batches(self, n: int = 1, timeout: float = 60) -> None:
        with self._cond:
            target = self.batches + n
            ok = self._cond.wait_for(lambda: self.batches >= target or self.error is not None, timeout)
        assert ok and self.error is None, f"writer stalled or failed: {self.error!r}"

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)
        assert not self.is_alive()
        if self.error:
            raise self.error

    def total(self, table: str) -> int:
        return sum(self.written[table].values())

    def assert_all_present(self, ch: ClickHouse, baseline: dict[str, int]) -> None:
        """Every table holds the baseline rows plus exactly what was written, per key."""
        for table in CDC_TABLES:
            keys, marker = KEYS[table]
            key_sql = ", ".join(f"toString({k})" for k in keys)
            found = Counter(
                {tuple(r[:-1]): r[-1] for r in ch.rows(
                    f"SELECT {key_sql}, count() FROM {table} WHERE {marker} = {{w:UUID}} GROUP BY {key_sql}",
                    {"w": self.WRITER})}
            )
            assert found == self.written[table], f"{table}: counts per key differ from what was written"
            assert ch.scalar(f"SELECT count() FROM {table}") == baseline[table] + self.total(table), table


# --- Dagster -------------------------------------------------------------------------------

FAST = {  # run config that skips waits meant for production
    "ops": {
        "post_metrics_1h": {"config": {"max_reconcile_passes": 4}},
        "user_author_90d": {"config": {"max_reconcile_passes": 4}},
        "clickhouse_plan": {"config": {"sample_rows": 1000}},  # the smallest calibration sample
    }
}


def run_job(name: str, url: str, run_config: dict | None = None, *, raise_on_error: bool = False):
    """Run a job of the code location in this process against the test's database."""
    from pipelines.definitions import defs
    from pipelines.resources import ClickHouseResource

    job = defs.resolve_job_def(name)
    return job.execute_in_process(
        resources={"clickhouse": ClickHouseResource(clickhouse_url=url)},
        run_config=run_config or {},
        raise_on_error=raise_on_error,
    )


def check_evaluations(result) -> dict[tuple[str, str], object]:
    """(asset, check) -> the check's evaluation, for every check the run executed."""
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            out[(data.asset_key.to_user_string(), data.check_name)] = data
    return out


def failure_messages(result) -> list[str]:
    return [e.event_specific_data.error.message for e in result.all_events
            if e.event_type_value == "STEP_FAILURE" and e.event_specific_data.error]


def materializations(result) -> dict[str, dict]:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            out[m.asset_key.to_user_string()] = {k: v.value for k, v in m.metadata.items()}
    return out
