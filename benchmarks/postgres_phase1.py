"""Benchmark of Phase 1.1 on PostgreSQL (not a test): is the online rollout cheap enough?

Prints, side by side, from one run of this process:
  1. backfill throughput: the engine's batched, checkpointed pass over every message (its
     sequence_number and content_tsv in one UPDATE per batch, VACUUM every 10% of the rows)
     against one `UPDATE ... FROM (row_number() ...)` setting both columns over the whole
     table (the throughput limit, which is not online: it locks every row until it commits),
     by default on the table the engine's pass sees (the composite index it walks, which
     every rewrite also updates, and the triggers; `--single-schema bare`: without them);
     `--runs` times each, median and spread; `--throughput-only` stops there;
  2. writer latency (p50/p99) of application-like traffic with and without the rollout;
  3. the longest time any writer waited on a lock while the rollout ran;
  4. what the rollout cost the database: `messages`' size before, right after the job, and
     compacted (VACUUM FULL of an exact copy, the floor), and the WAL the server wrote while
     the job ran (the writers' share included).
Goals (issues 3 and 14): >= 80% of the single statement's rows/s, writer p99 <= 2x its
baseline, no writer waits longer than 1 s, messages <= 1.15x its compacted size.

    .venv/bin/python benchmarks/postgres_phase1.py --scale medium
    # throughput only, against the single statement on both tables:
    .venv/bin/python benchmarks/postgres_phase1.py --scale medium --throughput-only --single-schema both
    # the rollout's cost with other code (an older commit's checkout), throughput skipped:
    .venv/bin/python benchmarks/postgres_phase1.py --scale medium --runs 0 --code /tmp/dbopt-old

Uses the embedded PostgreSQL (or --url) and two databases cloned from one seeded template.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import psycopg  # noqa: E402
import psycopg.conninfo  # noqa: E402

from benchmarks.common import admin_url, clone, db_url, seeded_template  # noqa: E402
from dbopt.postgres.connect import PgConnector  # noqa: E402
from dbopt.postgres.traffic import Traffic, TrafficStats  # noqa: E402

TS = "'simple'::regconfig"

SINGLE_STATEMENT = """
UPDATE messages AS m SET sequence_number = n.rn, content_tsv = to_tsvector('simple'::regconfig, m.content)
FROM (SELECT id, row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS rn FROM messages) AS n
WHERE m.id = n.id
"""


def summary(stats: TrafficStats) -> tuple[float, float, int]:
    lat = stats.all_latencies()
    return TrafficStats.percentile(lat, 50), TrafficStats.percentile(lat, 99), len(lat)


def phase_windows(url: str) -> dict[str, tuple[float, float]]:
    """When each kind of work ran (epoch seconds), from the ledger and the checkpoints."""
    with psycopg.connect(url) as conn:
        steps = conn.execute(
            "SELECT step, extract(epoch FROM started_at), extract(epoch FROM finished_at) FROM dbopt.migration_ledger "
            "WHERE outcome = 'applied' AND finished_at > started_at ORDER BY id"
        ).fetchall()
        fills = conn.execute(
            "SELECT backfill, extract(epoch FROM min(started_at)), extract(epoch FROM max(updated_at)) "
            "FROM dbopt.backfill_progress GROUP BY backfill ORDER BY 2"
        ).fetchall()
    from dbopt.postgres.phase1 import BACKFILLS

    windows: dict[str, tuple[float, float]] = {}
    for name, start, end in steps:
        if name in BACKFILLS:  # the ledger marks a backfill complete; its window comes from the checkpoints
            continue
        kind = "index build (CONCURRENTLY)" if "index" in name else "DDL under lock_timeout"
        if "100_validate" in name:
            kind = "VALIDATE CONSTRAINT"
        windows[f"{kind}: {name}"] = (float(start), float(end))
    for name, start, end in fills:
        windows[f"backfill: {name}"] = (float(start), float(end))
    return dict(sorted(windows.items(), key=lambda kv: kv[1][0]))


def engine_schema(connector: PgConnector, ts: str) -> None:
    """What the job has built when its numbering pass starts: the query indexes (the
    composite one the pass walks, which every rewrite of a message also updates) and the
    triggers, with both new columns."""
    from dbopt.postgres import phase1
    from dbopt.postgres.runner import MigrationRunner

    MigrationRunner(connector).apply(phase1.QUERY_INDEXES + phase1.SEQUENCE_TRIGGER + phase1.content_tsv_trigger(ts))


def single_statement(admin: str, template: str, rows: int, schema: str) -> float:
    """rows/s of one UPDATE setting both columns over the whole table (not online: it locks
    every row until it commits), on a fresh copy with `schema`: "engine" (the indexes and
    triggers the engine's pass runs with) or "bare" (the two columns only, two indexes fewer
    to maintain on messages: the comparison of the runs before 2026-12-02 evening)."""
    url = clone(admin, template, "dbopt_bench_single")
    if schema == "engine":
        connector = PgConnector(url)
        engine_schema(connector, TS)
        connector.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE messages")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE messages ADD COLUMN IF NOT EXISTS sequence_number bigint, "
                     "ADD COLUMN IF NOT EXISTS content_tsv tsvector")
        started = time.perf_counter()
        conn.execute(SINGLE_STATEMENT)
        single_s = time.perf_counter() - started
    rate = rows / single_s
    print(f"single UPDATE ({schema} schema) over {rows:,} messages: {single_s:.1f} s ({rate:,.0f} rows/s)", flush=True)
    return rate


def engine_alone(admin: str, template: str, pause_ratio: float) -> tuple[float, object]:
    """rows/s of the engine's numbering pass alone (no writers) on a fresh copy, wall clock
    (pauses and VACUUMs included), and its report."""
    url = clone(admin, template, "dbopt_bench_engine")
    from dbopt.postgres import phase1
    from dbopt.postgres.backfill import BackfillEngine, BackfillSettings
    from pipelines.postgres_steps import KEY_RANGES

    connector = PgConnector(url)
    # As the job does: indexes, then both triggers before the pass that fills both columns.
    engine_schema(connector, TS)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE messages")
    engine = BackfillEngine(connector, settings=BackfillSettings(pause_ratio=pause_ratio))
    engine.run(phase1.SEQUENCE_INIT_COUNTERS, KEY_RANGES)
    alone = engine.run(phase1.sequence_numbering(TS), KEY_RANGES)
    connector.close()
    rate = alone.rows / alone.seconds
    in_batches = sum(alone.batch_ms) / 1000
    print(f"engine alone: {alone.rows:,} messages in {alone.seconds:.1f} s ({rate:,.0f} rows/s): "
          f"{alone.batches:,} batches (median {statistics.median(alone.batch_ms):.0f} ms, last size "
          f"{alone.batch_size:,} rows) {in_batches:.1f} s, {alone.vacuums} VACUUMs {alone.vacuum_s:.1f} s, "
          f"the rest {alone.seconds - in_batches - alone.vacuum_s:.1f} s", flush=True)
    return rate, alone


def single_against_engine(admin: str, template: str, rows: int, pause_ratio: float,
                          schema: str) -> tuple[float, float, int]:
    """One statement over the whole table, then the engine on a fresh copy: (rows/s, rows/s, VACUUMs)."""
    singles = {s: single_statement(admin, template, rows, s) for s in (("engine", "bare") if schema == "both"
                                                                     else (schema,))}
    single_rate = singles["engine" if schema == "both" else schema]
    alone_rate, alone = engine_alone(admin, template, pause_ratio)
    for s, rate in singles.items():
        print(f"engine alone: {alone_rate / rate:.0%} of the single statement ({s} schema)", flush=True)
    return single_rate, alone_rate, alone.vacuums


def sizes(url: str) -> dict[str, int]:
    """messages: heap (with TOAST and maps), indexes, total; and the server's WAL position."""
    with psycopg.connect(url) as conn:
        heap, idx, total, lsn = conn.execute(
            "SELECT pg_table_size('messages'), pg_indexes_size('messages'), pg_total_relation_size('messages'), "
            "pg_current_wal_lsn() - '0/0'::pg_lsn"
        ).fetchone()
        dead = conn.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'messages'::regclass").fetchone()
        per_index = dict(conn.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = 'messages'::regclass ORDER BY 1").fetchall())
    return {"heap": heap, "indexes": idx, "total": total, "wal": int(lsn), "dead": dead[0] if dead else 0,
            **{f"index {k}": v for k, v in per_index.items()}}


def compacted(admin: str, url: str, name: str) -> dict[str, int]:
    """The floor: an exact copy of the database at `url` with messages rewritten by VACUUM FULL."""
    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    copy = db_url(admin, name)
    with psycopg.connect(copy, autocommit=True) as conn:
        conn.execute("VACUUM FULL messages")
    return sizes(copy)


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def median_spread(values: list[float]) -> str:
    if not values:
        return "not measured"
    return f"{statistics.median(values):.0%} (spread {min(values):.0%}-{max(values):.0%}, {len(values)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--url", help="superuser URL of a PostgreSQL server (default: the embedded one)")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--pause", type=float, default=0.005, help="pause between one writer's operations (s)")
    parser.add_argument("--pause-ratio", type=float, default=0.0, help="the backfills' pause_ratio (duty cycle)")
    parser.add_argument("--rerun", type=int, nargs="?", const=3, default=0, metavar="N",
                        help="instead: what N reruns with nothing to do cost (benchmarks/postgres_rerun.py)")
    parser.add_argument("--runs", type=int, default=3, help="single statement against engine, this many times (0: skip)")
    parser.add_argument("--code", help="run the job from this checkout instead (for the figures of other code)")
    parser.add_argument("--single-schema", choices=("engine", "bare", "both"), default="engine",
                        help="the single statement's table: with the indexes and triggers the engine's pass runs "
                             "with (default), with the two columns only (runs before 2026-12-02 evening), or both")
    parser.add_argument("--throughput-only", action="store_true",
                        help="only the single statement against the engine (--runs times); no job, no writers")
    args = parser.parse_args()
    if args.rerun:
        from benchmarks.postgres_rerun import rerun

        return rerun(args.url, args.scale, args.rerun)

    admin = admin_url(args.url)
    template = seeded_template(admin, args.scale)
    with psycopg.connect(db_url(admin, template)) as conn:
        rows = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]

    throughput = [single_against_engine(admin, template, rows, args.pause_ratio, args.single_schema)
                  for _ in range(args.runs)]
    if args.throughput_only:
        ratios = [alone / single for single, alone, _ in throughput]
        print(f"\nPostgreSQL {version} (autovacuum {autovacuum}), {rows:,} messages ({args.scale}); "
              f"single statement on the {args.single_schema} schema")
        for i, (single, alone, vacuums) in enumerate(throughput, 1):
            print(f"run {i}: single {single:,.0f} rows/s, engine {alone:,.0f} rows/s ({vacuums} VACUUMs): "
                  f"{alone / single:.0%}")
        print(f"engine against the single statement: {median_spread(ratios)} (goal >= 80%)")
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in ("dbopt_bench_single", "dbopt_bench_engine"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return None
    # 2. Writers alone, then writers while the whole phase1_postgres job runs.
    url = clone(admin, template, "dbopt_bench_online")
    size_before = sizes(url)
    print(f"writers alone for {args.baseline_seconds:.0f} s ...", flush=True)
    base = Traffic(url, kinds=("send_hot", "send_random", "members", "edit"), pause_s=args.pause).start()
    time.sleep(args.baseline_seconds)
    base_stats = base.stop()
    print("writers while phase1_postgres runs (in its own process, as `dagster job execute`) ...", flush=True)
    traffic = Traffic(url, kinds=("send_hot", "send_random", "members", "edit"), pause_s=args.pause).start()
    wal_before = sizes(url)["wal"]
    started = time.perf_counter()
    code = Path(args.code).resolve() if args.code else Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as home:
        Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        backfills = ("sequence_number_backfill", "conversation_counters_backfill", "content_tsv_backfill")
        Path(home, "run.yaml").write_text(json.dumps(
            {"ops": {name: {"config": {"pause_ratio": args.pause_ratio}} for name in backfills}}))
        job = subprocess.run(
            [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "pipelines.definitions",
             "-j", "phase1_postgres", "-c", str(Path(home, "run.yaml"))],
            env={**os.environ, "DATABASE_URL": url, "DAGSTER_HOME": home, "PYTHONPATH": str(code)},
            capture_output=True, text=True, cwd=code,
        )
    job_s = time.perf_counter() - started
    during = traffic.stop()
    size_after = sizes(url)
    wal_job = size_after["wal"] - wal_before
    print("the floor: VACUUM FULL of an exact copy ...", flush=True)
    floor = compacted(admin, url, "dbopt_bench_floor")
    print(f"writers after the rollout for {args.baseline_seconds:.0f} s (the triggers' permanent cost) ...", flush=True)
    after_traffic = Traffic(url, kinds=("send_hot", "send_random", "members", "edit"), pause_s=args.pause).start()
    time.sleep(args.baseline_seconds)
    after = after_traffic.stop()
    # Control: the same writers next to a query that only burns one core of the server
    # (no lock, no write, no WAL). If their p99 rises as much as during a backfill, the
    # backfill's cost to them is CPU, not locks.
    print(f"writers next to a CPU-only query for {args.baseline_seconds:.0f} s (control) ...", flush=True)
    burn_s = int(args.baseline_seconds) + 10
    burner = subprocess.Popen([sys.executable, "-c", (
        "import psycopg, sys; c = psycopg.connect(sys.argv[1]); "
        f"c.execute(\"SET statement_timeout = '{burn_s}s'\"); "
        "c.execute('SELECT count(*) FROM generate_series(1, 10000000000)')"), url],
        stderr=subprocess.DEVNULL)
    time.sleep(1)
    control_traffic = Traffic(url, kinds=("send_hot", "send_random", "members", "edit"), pause_s=args.pause).start()
    time.sleep(args.baseline_seconds)
    control = control_traffic.stop()
    burner.kill()
    if job.returncode != 0:
        print("phase1_postgres FAILED; figures below are not meaningful:", flush=True)
        print("\n".join(line for line in job.stderr.splitlines() if "Failure" in line or "ERROR" in line)[-2000:])
    with psycopg.connect(url) as conn:
        engine_rows, engine_s = conn.execute(
            "SELECT sum(rows_done), extract(epoch FROM max(updated_at) - min(started_at)) FROM dbopt.backfill_progress "
            "WHERE backfill = 'sequence_number/number_messages'"
        ).fetchone()
    engine_rate = float(engine_rows) / float(engine_s)
    single_rate = statistics.median(t[0] for t in throughput) if throughput else float("nan")
    ratios = [alone / single for single, alone, _ in throughput]

    phases = phase_windows(url)
    b50, b99, bn = summary(base_stats)
    d50, d99, dn = summary(during)
    a50, a99, an = summary(after)
    c50, c99, cn = summary(control)
    print()
    print(f"PostgreSQL {version} (autovacuum {autovacuum}), {rows:,} messages ({args.scale}); "
          f"pause_ratio {args.pause_ratio}; the job ({code}) took {job_s:.0f} s")
    print()
    print("| messages | heap | indexes | total | dead tuples |")
    print("|---|---|---|---|---|")
    for label, fig in (("before the rollout", size_before), ("right after it", size_after),
                       ("the same rows compacted (VACUUM FULL of a copy): the floor", floor)):
        print(f"| {label} | {mb(fig['heap'])} | {mb(fig['indexes'])} | {mb(fig['total'])} | {fig['dead']:,} |")
    print()
    print(f"messages after the rollout: {size_after['total'] / floor['total']:.2f}x its compacted size "
          f"(goal <= 1.15x); WAL written while the job ran: {mb(wal_job)} (writers' included)")
    print()
    print("| index of messages | right after | compacted | ratio |")
    print("|---|---|---|---|")
    for key in sorted(k for k in size_after if k.startswith("index ")):
        if key in floor and floor[key]:
            print(f"| {key[6:]} | {mb(size_after[key])} | {mb(floor[key])} | {size_after[key] / floor[key]:.2f}x |")
    print()
    print("| measure | single statement / writers before | engine / during the rollout | ratio | goal |")
    print("|---|---|---|---|---|")
    for i, (single, alone, vacuums) in enumerate(throughput, 1):
        print(f"| backfill rows/s, engine alone, run {i} (wall clock, {vacuums} VACUUMs included) | {single:,.0f} "
              f"| {alone:,.0f} | {alone / single:.0%} | >= 80% |")
    print(f"| engine alone against the single statement: median (spread) | | | {median_spread(ratios)} | >= 80% |")
    print(f"| backfill rows/s, engine while writers write | {single_rate:,.0f} | {engine_rate:,.0f} "
          f"| {engine_rate / single_rate:.0%} | |")
    print(f"| writer p50 latency (ms) | {b50:.2f} | {d50:.2f} | {d50 / b50:.2f}x | |")
    print(f"| writer p99 latency (ms) | {b99:.2f} | {d99:.2f} | {d99 / b99:.2f}x | <= 2x |")
    print(f"| writes (failed) | {bn:,} ({len(base_stats.errors)}) | {dn:,} ({len(during.errors)}) | | 0 failed |")
    print(f"| writer p50 / p99 after the rollout (ms): the triggers' permanent cost | {b50:.2f} / {b99:.2f} "
          f"| {a50:.2f} / {a99:.2f} | {a50 / b50:.2f}x / {a99 / b99:.2f}x | |")
    print(f"| writer p99 during the rollout against after it: the rollout's own cost | {a99:.2f} | {d99:.2f} "
          f"| {d99 / a99:.2f}x | |")
    print(f"| longest writer lock wait (ms) | {base_stats.max_lock_wait_ms:.0f} | {during.max_lock_wait_ms:.0f} "
          f"| | < 1000 |")
    print(f"| control: writer p50 / p99 next to a CPU-only query (ms) | {a50:.2f} / {a99:.2f} | {c50:.2f} / {c99:.2f} "
          f"| {c50 / a50:.2f}x / {c99 / a99:.2f}x | |")
    print()
    print("| phase of the rollout | seconds | writes | writer p50 (ms) | writer p99 (ms) | p99 vs alone |")
    print("|---|---|---|---|---|---|")
    for name, (start, end) in phases.items():
        lat = [ms for t, ms in during.samples if start <= t <= end]
        if lat:
            p99 = TrafficStats.percentile(lat, 99)
            print(f"| {name} | {end - start:.1f} | {len(lat):,} | {TrafficStats.percentile(lat, 50):.2f} "
                  f"| {p99:.2f} | {p99 / b99:.2f}x |")
    print()
    print("| writer p99 by operation (ms) | before | during the rollout | after |")
    print("|---|---|---|---|")
    for kind in sorted(base_stats.latencies_ms):
        print(f"| {kind} | {TrafficStats.percentile(base_stats.latencies_ms[kind], 99):.2f} "
              f"| {TrafficStats.percentile(during.latencies_ms[kind], 99):.2f} "
              f"| {TrafficStats.percentile(after.latencies_ms[kind], 99):.2f} |")

    with psycopg.connect(admin, autocommit=True) as conn:
        for name in ("dbopt_bench_single", "dbopt_bench_online", "dbopt_bench_engine", "dbopt_bench_floor"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
