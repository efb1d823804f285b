"""The batched backfill engine (GitLab's batched background migrations, done in Dagster).

A backfill walks one table in keyset order over any key, composite keys included, in
batches that each run one SQL file in their own short transaction. The checkpoint (the
last key done, plus a `carry` value the SQL may hand to the next batch) is written in the
same transaction, so a killed run resumes exactly where it stopped and never redoes more
than the batch that was in flight. Batch size adapts to a target duration; between
batches the database's health decides whether to pause. Progress (rows, rows/s, ETA) is
logged as it goes. Every `vacuum_every_fraction` of the table's rows rewritten, the engine
runs a plain VACUUM of the table (online), so the rest of the pass reuses the space of the
versions it left dead instead of growing the table by one copy of every row it rewrites.

Batch SQL files see these placeholders, all rendered as typed SQL literals:
  {{batch}}        the batch's predicate on the key, e.g. (a, b) > (...) AND (a, b) <= (...)
  {{lower_first}}  the first key column of the batch's lower bound (NULL on the first batch)
  {{upper_first}}  the same for the upper bound (NULL on the last batch)
  {{carry}}        the carry value the previous batch returned (0 at the start)
The file's last statement may return a row with `rows` (work done) and `carry`.

A backfill can be split into key ranges on its first key column (16 ranges over a uuid),
each with its own checkpoint, so Dagster partitions can run ranges on several workers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql

from dbopt import sqlfiles
from dbopt.errors import DboptError
from dbopt.postgres import session
from dbopt.postgres.health import ThrottleSettings, blind_spot, reasons_to_pause


@dataclass(frozen=True)
class KeyRange:
    """Rows whose first key column is in [lo, hi); None means unbounded."""

    id: str
    lo: str | None = None
    hi: str | None = None


ALL = KeyRange("all")


def uuid_ranges(count: int = 16) -> list[KeyRange]:
    """Equal slices of the uuid space by leading hex digits (count: 1, 16 or 256)."""
    if count <= 1:
        return [ALL]
    digits = {16: 1, 256: 2}.get(count)
    if digits is None:
        raise DboptError(f"Key ranges over a uuid must number 1, 16 or 256, not {count}.")
    bounds = [f"{i:0{digits}x}".ljust(8, "0") + "-0000-0000-0000-000000000000" for i in range(count)]
    return [
        KeyRange(f"{i:0{digits}x}", None if i == 0 else bounds[i], bounds[i + 1] if i + 1 < count else None)
        for i in range(count)
    ]


# Every backfill of phase1_postgres keeps one checkpoint per slice of the uuid key space, so the
# same work can be done by one run walking all slices or by partitioned runs doing one slice
# each (pipelines/postgres_steps.py); postgres_plan predicts one walk per slice.
KEY_RANGES = uuid_ranges(16)


@dataclass(frozen=True)
class Backfill:
    name: str
    table: str
    key: tuple[str, ...]
    batch_path: str
    render: Mapping[str, str] = field(default_factory=dict)
    # Tables whose lock queues pause the backfill (default: the table walked).
    watch_tables: tuple[str, ...] = ()
    target_batch_ms: int = 50
    initial_batch: int = 1_000
    min_batch: int = 50
    max_batch: int = 25_000

    def checksum(self) -> str:
        return sqlfiles.checksum(sqlfiles.load(self.batch_path, {**self.render, **_PLACEHOLDERS}))


_PLACEHOLDERS = {"batch": "true", "lower_first": "NULL", "upper_first": "NULL", "carry": "0"}


@dataclass(frozen=True)
class BackfillSettings(session.SessionSettings):
    """How a backfill paces itself (lock_timeout_ms, statement_timeout_s, advisory_wait_s: `SessionSettings`)."""

    lock_retries: int = 20
    progress_every_s: float = 5.0
    # Database health is read before a batch at most this often.
    health_every_s: float = 1.0
    # Batches commit without waiting for their WAL flush: the writers' commits, not the
    # backfill's, get the disk. A server crash may lose the last few batches, but each
    # batch and its checkpoint commit together, so those batches are simply redone.
    synchronous_commit: bool = False
    # Idle time after each batch, as a fraction of the batch's duration (a duty cycle):
    # 1.0 halves the backfill's share of the database for the application's benefit.
    pause_ratio: float = 0.0
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    # When the role cannot see other sessions (no pg_read_all_stats), the throttle is blind:
    # batches stay at most this big and idle at least this fraction of their duration.
    blind_max_batch: int = 1_000
    blind_pause_ratio: float = 1.0
    # VACUUM (not FULL) the walked table each time this fraction of its rows (the planner's
    # count) has been rewritten by this run; 0 leaves it to autovacuum. Without it every
    # rewritten row leaves a dead version that autovacuum frees only after the pass, too late
    # for the pass to reuse: the table ends one copy of its rows bigger (docs/postgres.md).
    vacuum_every_fraction: float = 0.1
    # VACUUM takes SHARE UPDATE EXCLUSIVE (writers and readers go on) under the batches'
    # lock_timeout; a VACUUM that cannot get the lock (autovacuum is at it) or runs past this
    # is skipped with a warning: the backfill never waits or fails for it.
    vacuum_timeout_s: float = 1800.0


@dataclass
class BackfillReport:
    name: str
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    paused_s: float = 0.0
    lock_retries: int = 0
    ranges_done: int = 0
    ranges_skipped: int = 0
    rows_before: int = 0  # done by earlier, interrupted runs
    batch_size: int = 0
    batch_ms: list[float] = field(default_factory=list)
    timeout_splits: int = 0  # batches halved after hitting statement_timeout
    blind: str | None = None  # why the health throttle could not see the database, if it could not
    vacuums: int = 0  # VACUUMs of the table run during the walk
    vacuum_s: float = 0.0
    vacuums_skipped: int = 0  # lock held elsewhere (autovacuum) or too slow

    @property
    def rows_per_s(self) -> float:
        busy = self.seconds - self.paused_s
        return self.rows / busy if busy > 0 else 0.0


class BackfillEngine(session.Worker[BackfillSettings]):
    """Runs backfills (see the module docstring):
    `BackfillEngine(connector, settings=BackfillSettings(...), run_id=..., log=..., clock=...)`."""

    settings_type = BackfillSettings
    logger_name = "dbopt.backfill"

    # -- public ----------------------------------------------------------------------------
    def run(self, spec: Backfill, ranges: Sequence[KeyRange] = (ALL,)) -> BackfillReport:
        report = BackfillReport(spec.name, batch_size=spec.initial_batch)
        started = self._clock()
        with self.connector.dedicated(autocommit=True) as conn:
            session.name_session(conn, f"backfill {spec.name}")
            # Every statement of this session outside a batch (keyset bounds, health, checkpoints)
            # runs under the same timeouts as a batch; a batch sets its own with SET LOCAL.
            session.set_timeouts(conn, **self._limits())
            report.blind = blind_spot(conn)
            if report.blind:
                self.log.warning(
                    f"{spec.name}: the health throttle is blind ({report.blind}); being careful instead: batches of "
                    f"at most {self.settings.blind_max_batch:,} rows, each followed by a pause of at least "
                    f"{self.settings.blind_pause_ratio:g}x its duration"
                )
            types = self._key_types(conn, spec)
            estimate = self._estimate(conn, spec, ranges)
            self._vacuum_every = self._vacuum_every_rows(conn, spec)
            self._since_vacuum = 0
            for key_range in ranges:
                self._run_range(conn, spec, key_range, types, report, estimate, started)
        report.seconds = self._clock() - started
        self.log.info(
            f"{spec.name}: done, {report.rows:,} rows in {report.batches:,} batches, {report.seconds:.1f} s "
            f"({report.rows_per_s:,.0f} rows/s), paused {report.paused_s:.1f} s"
        )
        return report

    def reset(self, spec_name: str) -> None:
        """Forget a backfill's checkpoints (a rollback does this)."""
        with self.connector.connection() as conn:
            conn.execute("DELETE FROM dbopt.backfill_progress WHERE backfill = %s", (spec_name,))

    # -- one key range ---------------------------------------------------------------------
    def _run_range(
        self,
        conn: psycopg.Connection,
        spec: Backfill,
        key_range: KeyRange,
        types: list[str],
        report: BackfillReport,
        estimate: int | None,
        started: float,
    ) -> None:
        def refusal(_holders: Sequence[session.Holder]) -> str:
            return (f"Backfill {spec.name} (range {key_range.id}) is running in another session; wait for it to "
                    f"finish instead of starting it twice.")

        with session.advisory_lock(conn, f"dbopt:backfill:{spec.name}:{key_range.id}",
                                   wait_s=self.settings.advisory_wait_s, refusal=refusal, clock=self._clock):
            cursor, carry, finished, done_before = self._checkpoint(conn, spec, key_range)
            if finished:
                report.ranges_skipped += 1
                return
            if done_before:
                report.rows_before += done_before
                self.log.info(
                    f"{spec.name}: resuming range {key_range.id} after {done_before:,} rows done by an earlier run"
                )
            max_batch = min(spec.max_batch, self.settings.blind_max_batch) if report.blind else spec.max_batch
            pause_ratio = self.settings.pause_ratio
            if report.blind:
                pause_ratio = max(pause_ratio, self.settings.blind_pause_ratio)
            size = min(max_batch, max(spec.min_batch, report.batch_size or spec.initial_batch))
            last_log = self._clock()
            last_health = -1e9
            consecutive_lock_failures = 0
            while True:
                if self._clock() - last_health >= self.settings.health_every_s:
                    report.paused_s += self._wait_until_healthy(conn, spec)
                    last_health = self._clock()
                t0 = self._clock()
                try:
                    upper = self._upper_bound(conn, spec, key_range, types, cursor, size)
                    rows, carry_out = self._batch(conn, spec, key_range, types, cursor, upper, carry, size)
                except (pgerrors.LockNotAvailable, pgerrors.DeadlockDetected) as exc:
                    consecutive_lock_failures += 1
                    report.lock_retries += 1
                    if consecutive_lock_failures > self.settings.lock_retries:
                        raise DboptError(
                            f"Backfill {spec.name} could not lock its rows {consecutive_lock_failures} times in a row "
                            f"({session.first_line(exc)}); rerun the job when writes calm down (it resumes from "
                            f"its checkpoint)."
                        ) from None
                    size = max(spec.min_batch, size // 2)
                    time.sleep(min(5.0, 0.1 * 2**consecutive_lock_failures))
                    continue
                except pgerrors.QueryCanceled as exc:
                    if not session.is_statement_timeout(exc):
                        raise
                    # The same batch would time out again on every rerun: split it instead.
                    if size <= spec.min_batch:
                        raise DboptError(
                            f"Backfill {spec.name} could not finish even a batch of {size:,} rows within its "
                            f"statement timeout of {self.settings.statement_timeout_s:g} s (range {key_range.id}); "
                            f"find what slows it (a lock, a missing index, a busy server) and rerun the job (it "
                            f"resumes from its checkpoint)."
                        ) from None
                    report.timeout_splits += 1
                    self.log.warning(
                        f"{spec.name}: a batch of {size:,} rows hit the statement timeout of "
                        f"{self.settings.statement_timeout_s:g} s and was rolled back; retrying it as "
                        f"{max(spec.min_batch, size // 2):,} rows"
                    )
                    size = max(spec.min_batch, size // 2)
                    continue
                consecutive_lock_failures = 0
                elapsed_ms = (self._clock() - t0) * 1000
                report.rows += rows
                report.batches += 1
                report.batch_ms.append(elapsed_ms)
                cursor, carry = upper, carry_out
                self._since_vacuum += rows
                if self._vacuum_every and self._since_vacuum >= self._vacuum_every:
                    self._vacuum(conn, spec, report)
                size = self._adapt(spec, size, elapsed_ms, max_batch)
                if pause_ratio > 0:
                    pause = elapsed_ms * pause_ratio / 1000
                    time.sleep(pause)
                    report.paused_s += pause
                report.batch_size = size
                now = self._clock()
                if now - last_log >= self.settings.progress_every_s:
                    last_log = now
                    self._log_progress(spec, report, estimate, started)
                if upper is None:
                    break
            report.ranges_done += 1

    def _batch(
        self,
        conn: psycopg.Connection,
        spec: Backfill,
        key_range: KeyRange,
        types: list[str],
        lower: list[str] | None,
        upper: list[str] | None,
        carry: int,
        size: int,
    ) -> tuple[int, int]:
        with conn.transaction():
            rows, carry_out = self._statements(conn, spec, key_range, types, lower, upper, carry)
            conn.execute(
                """
                UPDATE dbopt.backfill_progress
                SET cursor_values = %s, carry = %s, rows_done = rows_done + %s, batches = batches + 1,
                    batch_size = %s, run_id = %s, updated_at = clock_timestamp(),
                    finished_at = CASE WHEN %s THEN clock_timestamp() END
                WHERE backfill = %s AND key_range = %s
                """,
                (upper, carry_out, rows, size, self.run_id, upper is None, spec.name, key_range.id),
            )
        return rows, carry_out

    def _statements(
        self,
        conn: psycopg.Connection,
        spec: Backfill,
        key_range: KeyRange,
        types: list[str],
        lower: list[str] | None,
        upper: list[str] | None,
        carry: int,
    ) -> tuple[int, int]:
        """The batch's SQL file, run inside the caller's transaction under the batch's settings."""
        values = {
            **spec.render,
            "batch": self._predicate(conn, spec, key_range, types, lower, upper),
            "lower_first": self._literal(conn, lower[0] if lower else None, types[0]),
            "upper_first": self._literal(conn, upper[0] if upper else None, types[0]),
            "carry": str(int(carry)),
        }
        statements = sqlfiles.split(sqlfiles.load(spec.batch_path, values))
        # The batch's settings in one round trip, not one per setting: a batch of 50 ms made
        # eleven round trips, six of them for these.
        names, settings = zip(*self._batch_settings().items(), strict=True)
        conn.execute(
            "SELECT set_config(name, setting, true) FROM unnest(%s::text[], %s::text[]) AS s(name, setting)",
            (list(names), list(settings)),
        )
        cur = None
        for stmt in statements:
            cur = conn.execute(stmt)
        return self._batch_result(cur)

    def sample(
        self,
        conn: psycopg.Connection,
        spec: Backfill,
        sizes: Sequence[int],
        max_rows: int | None = None,
        rollback_each: bool = False,
    ) -> list[tuple[int | None, int, float]]:
        """Time the backfill's own batches (keyset bound + batch SQL) on `conn`, inside the
        caller's open transaction, each in a savepoint and without checkpoints: postgres_plan
        runs them on its sample and rolls everything back. Batch i walks `sizes[i % len]` rows,
        until the table is done or `max_rows` are walked; `rollback_each` rolls each batch's
        savepoint back at once (its row locks last one batch). Returns (rows walked, None for the last batch; rows the SQL
        reported; seconds) per batch."""
        types = self._key_types(conn, spec)
        cursor: list[str] | None = None
        carry = 0
        out: list[tuple[int | None, int, float]] = []
        while True:
            size = sizes[len(out) % len(sizes)]
            t0 = time.perf_counter()
            upper = self._upper_bound(conn, spec, ALL, types, cursor, size)
            with conn.transaction(force_rollback=rollback_each):
                rows, carry = self._statements(conn, spec, ALL, types, cursor, upper, carry)
            out.append((size if upper is not None else None, rows, time.perf_counter() - t0))
            if upper is None or (max_rows is not None and sum(b[0] or 0 for b in out) >= max_rows):
                return out
            cursor = upper

    @staticmethod
    def _batch_result(cur: psycopg.Cursor | None) -> tuple[int, int]:
        if cur is None:
            return 0, 0
        if cur.description:
            names = [d.name for d in cur.description]
            row = cur.fetchone()
            if row is not None and "rows" in names:
                data = dict(zip(names, row, strict=True))
                return int(data["rows"] or 0), int(data.get("carry") or 0)
        return max(cur.rowcount, 0), 0

    # -- keyset bounds ---------------------------------------------------------------------
    def _upper_bound(
        self,
        conn: psycopg.Connection,
        spec: Backfill,
        key_range: KeyRange,
        types: list[str],
        lower: list[str] | None,
        size: int,
    ) -> list[str] | None:
        """The key of the size-th row after `lower`, or None when fewer rows remain."""
        cols = sql.SQL(", ").join(sql.Identifier(k) for k in spec.key)
        texts = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in spec.key)
        where = self._predicate(conn, spec, key_range, types, lower, None)
        query = sql.SQL("SELECT ARRAY[{texts}] FROM {table} WHERE {where} ORDER BY {cols} LIMIT 1 OFFSET {off}").format(
            texts=texts, table=_table(spec.table), where=sql.SQL(where), cols=cols, off=sql.Literal(size - 1)
        )
        row = conn.execute(query).fetchone()
        return list(row[0]) if row else None

    def _predicate(
        self,
        conn: psycopg.Connection,
        spec: Backfill,
        key_range: KeyRange,
        types: list[str],
        lower: list[str] | None,
        upper: list[str] | None,
    ) -> str:
        cols = sql.SQL(", ").join(sql.Identifier(k) for k in spec.key)
        parts: list[sql.Composable] = []

        def tup(values: list[str]) -> sql.Composable:
            return sql.SQL(", ").join(
                sql.SQL("{}::{}").format(sql.Literal(v), sql.SQL(t)) for v, t in zip(values, types, strict=True)
            )

        if lower is not None:
            parts.append(sql.SQL("({}) > ({})").format(cols, tup(lower)))
        if upper is not None:
            parts.append(sql.SQL("({}) <= ({})").format(cols, tup(upper)))
        first = sql.Identifier(spec.key[0])
        if key_range.lo is not None:
            parts.append(sql.SQL("{} >= {}::{}").format(first, sql.Literal(key_range.lo), sql.SQL(types[0])))
        if key_range.hi is not None:
            parts.append(sql.SQL("{} < {}::{}").format(first, sql.Literal(key_range.hi), sql.SQL(types[0])))
        if not parts:
            return "true"
        return sql.SQL(" AND ").join(parts).as_string(conn)

    @staticmethod
    def _literal(conn: psycopg.Connection, value: str | None, type_name: str) -> str:
        if value is None:
            return f"NULL::{type_name}"
        return sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(type_name)).as_string(conn)

    def _key_types(self, conn: psycopg.Connection, spec: Backfill) -> list[str]:
        rows = dict(
            conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = to_regclass(%s) AND a.attname = ANY(%s) AND NOT a.attisdropped",
                (spec.table, list(spec.key)),
            ).fetchall()
        )
        missing = [k for k in spec.key if k not in rows]
        if missing:
            raise DboptError(f"Backfill {spec.name}: table {spec.table} has no column(s) {', '.join(missing)}.")
        return [rows[k] for k in spec.key]

    # -- checkpoints -----------------------------------------------------------------------
    def _checkpoint(
        self, conn: psycopg.Connection, spec: Backfill, key_range: KeyRange
    ) -> tuple[list[str] | None, int, bool, int]:
        conn.execute(
            "INSERT INTO dbopt.backfill_progress (backfill, key_range, run_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (backfill, key_range) DO NOTHING",
            (spec.name, key_range.id, self.run_id),
        )
        cursor, carry, finished, rows = conn.execute(
            "SELECT cursor_values, carry, finished_at IS NOT NULL, rows_done FROM dbopt.backfill_progress "
            "WHERE backfill = %s AND key_range = %s",
            (spec.name, key_range.id),
        ).fetchone()
        return (list(cursor) if cursor else None), int(carry), bool(finished), int(rows)

    # -- dead space ------------------------------------------------------------------------
    def _vacuum_every_rows(self, conn: psycopg.Connection, spec: Backfill) -> int:
        """Rows rewritten between two VACUUMs (0: never), from the planner's row count (free)."""
        fraction = self.settings.vacuum_every_fraction
        if fraction <= 0:
            return 0
        row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", (spec.table,)).fetchone()
        if not row or not row[0] or row[0] <= 0:
            return 0  # never analyzed: autovacuum's business
        return max(spec.min_batch, int(row[0] * fraction))

    def _vacuum(self, conn: psycopg.Connection, spec: Backfill, report: BackfillReport) -> None:
        """A plain VACUUM of the walked table, so the pass reuses the space its dead versions hold.

        Between batches, on the engine's autocommit session (VACUUM cannot run in a
        transaction). It takes SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes,
        and waits at most lock_timeout for it. A long transaction elsewhere only makes it free
        less (it never waits for one); it is skipped, never fatal, when it cannot run."""
        self._since_vacuum = 0
        t0 = self._clock()
        try:
            session.set_timeouts(conn, statement_ms=max(1, int(self.settings.vacuum_timeout_s * 1000)))
            try:
                conn.execute(sql.SQL("VACUUM {}").format(_table(spec.table)))
            finally:
                session.set_timeouts(conn, statement_ms=self._timeout_ms())
        except (pgerrors.LockNotAvailable, pgerrors.QueryCanceled, pgerrors.InsufficientPrivilege) as exc:
            if isinstance(exc, pgerrors.QueryCanceled) and not session.is_statement_timeout(exc):
                raise  # an operator's cancel stops the backfill, as for a batch
            report.vacuums_skipped += 1
            self.log.warning(
                f"{spec.name}: VACUUM {spec.table} skipped ({session.first_line(exc)}); the backfill goes on and "
                f"autovacuum or the rollout's final VACUUM frees the space later"
            )
            return
        seconds = self._clock() - t0
        report.vacuums += 1
        report.vacuum_s += seconds
        self.log.info(f"{spec.name}: VACUUM {spec.table} in {seconds:.1f} s (every {self._vacuum_every:,} rows)")

    # -- pacing ----------------------------------------------------------------------------
    def _adapt(self, spec: Backfill, size: int, elapsed_ms: float, max_batch: int) -> int:
        """Grow or shrink the batch towards the target duration, at most 2x per step."""
        ratio = spec.target_batch_ms / max(elapsed_ms, 1.0)
        ratio = min(2.0, max(0.5, ratio))
        return int(min(max_batch, max(spec.min_batch, size * ratio)))

    def _batch_settings(self) -> dict[str, str]:
        """What each batch's transaction sets (SET LOCAL): its timeouts and planner settings."""
        settings = {"lock_timeout": f"{self.settings.lock_timeout_ms}ms", "statement_timeout": f"{self._timeout_ms()}ms"}
        if not self.settings.synchronous_commit:
            settings["synchronous_commit"] = "off"
        # A batch is a small key range by construction, but the planner cannot estimate row
        # comparisons: it once took a 200-row batch for 290 000 rows and hash-joined a
        # sequential scan of messages (865 ms instead of 5). Batches read through indexes.
        settings.update(enable_seqscan="off", enable_hashjoin="off", enable_mergejoin="off")
        return settings

    def _timeout_ms(self) -> int:
        return max(1, int(self.settings.statement_timeout_s * 1000))

    def _limits(self) -> dict[str, int]:
        """The batches' lock_timeout and statement_timeout, in milliseconds."""
        return {"lock_ms": self.settings.lock_timeout_ms, "statement_ms": self._timeout_ms()}

    def _wait_until_healthy(self, conn: psycopg.Connection, spec: Backfill) -> float:
        throttle = self.settings.throttle
        tables = list(spec.watch_tables or (spec.table,))
        waited = 0.0
        logged_at = -1e9
        while True:
            reasons = reasons_to_pause(conn, tables, throttle)
            if not reasons:
                return waited
            if waited >= throttle.max_pause_s:
                raise DboptError(
                    f"Backfill {spec.name} paused {waited:.0f} s because {'; '.join(reasons)}; resolve that and "
                    f"rerun the job (it resumes from its checkpoint)."
                )
            if waited - logged_at >= 30:
                logged_at = waited
                self.log.warning(f"{spec.name}: pausing because {'; '.join(reasons)}")
            time.sleep(throttle.pause_s)
            waited += throttle.pause_s

    def _estimate(self, conn: psycopg.Connection, spec: Backfill, ranges: Sequence[KeyRange]) -> int | None:
        """Rows the walk will visit, for the ETA: the planner's row count times the ranges' share.

        Free: a count(*) would scan the whole table on every run and every range partition."""
        row = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", (spec.table,)).fetchone()
        if not row or not row[0] or row[0] <= 0:
            return None
        return int(row[0] * sum(_share(r) for r in ranges))

    def _log_progress(self, spec: Backfill, report: BackfillReport, estimate: int | None, started: float) -> None:
        elapsed = self._clock() - started
        busy = max(elapsed - report.paused_s, 1e-6)
        rate = report.rows / busy
        text = f"{spec.name}: {report.rows:,} rows"
        if estimate:
            pct = min(100.0, 100.0 * report.rows / estimate)
            eta = max(0.0, (estimate - report.rows) / rate) if rate > 0 else float("inf")
            text += f" of ~{estimate:,} ({pct:.1f}%), ETA {eta:,.0f} s"
        text += f", {rate:,.0f} rows/s, batch {report.batch_size:,} rows in {report.batch_ms[-1]:.0f} ms"
        self.log.info(text)


def _share(key_range: KeyRange) -> float:
    """The fraction of the uuid key space a range covers (1.0 for other keys or no bounds)."""

    def point(bound: str | None, default: int) -> int:
        if bound is None:
            return default
        try:
            return int(bound.replace("-", "")[:8], 16)
        except ValueError:
            return -1

    lo, hi = point(key_range.lo, 0), point(key_range.hi, 16**8)
    return (hi - lo) / 16**8 if 0 <= lo < hi else 1.0


def _table(name: str) -> sql.Composable:
    parts = name.split(".")
    return sql.SQL(".").join(sql.Identifier(p) for p in parts)


def ranges_written_by(conn: psycopg.Connection, backfills: Sequence[str], run_id: str) -> set[str]:
    """The key ranges (ids) of these backfills whose checkpoint the run `run_id` wrote: what it changed.

    A range skipped as finished keeps the run that finished it, so a rerun with nothing to do
    returns none; a resumed range counts whole (the checks read it in full)."""
    if not backfills or not run_id:
        return set()
    exists = conn.execute("SELECT to_regclass('dbopt.backfill_progress') IS NOT NULL").fetchone()[0]
    if not exists:
        return set()
    rows = conn.execute(
        "SELECT DISTINCT key_range FROM dbopt.backfill_progress WHERE backfill = ANY(%s) AND run_id = %s",
        (list(backfills), run_id),
    ).fetchall()
    return {r[0] for r in rows}
