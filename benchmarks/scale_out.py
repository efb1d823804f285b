"""Benchmark of the scale-out path (not a test): the three Phase 1.1 backfills as 16 key-range
runs through a real `dagster-daemon`, `--pool` at a time, against one worker on the same data.

Both sides in one process, one after the other, each on its own copy of one seeded template,
with application-like writers running through the backfills:
  1. one worker: the job's three backfill steps walking all 16 key ranges in one process;
  2. scale-out: `phase1_postgres_triggers` first (not timed, as on side 1), then a Dagster
     backfill of the 16 partitions of `backfill_by_range`, queued, launched by the daemon,
     capped by the `postgres_backfill` pool; timed from the daemon's start to the last run's end.
Then `phase1_postgres` finishes each copy (constraints, GIN index, checks) and the invariants
are read (numbering, counters, content_tsv): the scale-out must change nothing but the time.

    .venv/bin/python benchmarks/scale_out.py --scale medium --pool 4 \\
        --url postgresql://postgres@127.0.0.1:5432/postgres

Figures: docs/postgres.md, "Scale-out".
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

import dagster as dg  # noqa: E402
import psycopg  # noqa: E402

from benchmarks.common import admin_url, clone, db_name, seeded_template  # noqa: E402
from dbopt.paths import REPO_ROOT  # noqa: E402
from dbopt.postgres.traffic import Traffic  # noqa: E402
from tests.deploy.conftest import dagster_pg_url  # noqa: E402
from tests.postgres.invariants import numbering_violations, preexisting_order, violations  # noqa: E402

BIN = Path(sys.executable).parent
KINDS = ("send_hot", "send_random", "members", "edit")
POOLED = {"sequence_number_backfill_by_range", "conversation_counters_backfill_by_range",
          "content_tsv_backfill_by_range"}  # the steps in the postgres_backfill pool


def run_job(url: str, name: str, **kwargs) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    result = defs.resolve_job_def(name).execute_in_process(
        resources={"postgres": PostgresResource(database_url=url)}, raise_on_error=False, **kwargs)
    if not result.success:
        raise SystemExit(f"{name} failed on {db_name(url)}")
    return result


def _backfills_in_one_process(url: str) -> None:
    """The three backfill steps of phase1_postgres, in order, in this process (checks apart, as the range runs)."""
    from assets.content_tsv import content_tsv_backfill
    from assets.conversation_counters import conversation_counters_backfill
    from assets.sequence_number import sequence_number_backfill
    from pipelines.resources import PostgresResource

    for step in (sequence_number_backfill, conversation_counters_backfill, content_tsv_backfill):
        result = dg.materialize([step], resources={"postgres": PostgresResource(database_url=url)},
                                raise_on_error=False)
        if not result.success:
            raise SystemExit(f"{step.key.to_user_string()} failed")


def one_worker(url: str) -> float:
    run_job(url, "phase1_postgres_triggers")
    started = time.monotonic()
    with Traffic(url, kinds=KINDS) as traffic:
        _backfills_in_one_process(url)
    assert traffic.stats.errors == [], traffic.stats.errors[:3]
    return time.monotonic() - started


def _cli(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{done.stderr[-2000:]}")


def scale_out(admin: str, url: str, pool: int, home: Path) -> tuple[float, int]:
    """Wall time of the 16 range runs through the daemon, and the most range steps seen at once."""
    run_job(url, "phase1_postgres_triggers")
    storage = "dbopt_bench_scale_out_dagster"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{storage}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{storage}"')
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_PG_URL": dagster_pg_url(admin, storage),
           "DATABASE_URL": url, "DBOPT_HOME": str(home / "data")}
    env.pop("DBOPT_RANGE_EXECUTOR", None)
    os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]  # this process reads the same instance
    workspace = str(REPO_ROOT / "workspace.yaml")
    _cli([str(BIN / "dagster"), "instance", "concurrency", "set", "postgres_backfill", str(pool)], env)
    _cli([str(BIN / "dagster"), "job", "backfill", "-w", workspace, "-j", "backfill_by_range",
          "--partitions", ",".join(f"{i:x}" for i in range(16)), "--noprompt"], env)
    log = (home / "daemon.log").open("wb")
    with Traffic(url, kinds=KINDS) as traffic:
        started = time.time()
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", workspace], cwd=REPO_ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            with dg.DagsterInstance.from_config(str(home)) as instance:
                while True:
                    runs = instance.get_runs(dg.RunsFilter(job_name="backfill_by_range"))
                    failed = [r for r in runs if r.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)]
                    if failed:
                        errors = [e.message for e in instance.all_logs(failed[0].run_id)
                                  if e.dagster_event and e.dagster_event.is_failure]
                        raise SystemExit(f"range run {failed[0].tags.get('dagster/partition')} failed: {errors[:3]}")
                    if len(runs) == 16 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs):
                        break
                    time.sleep(1)
                ended = max(instance.get_run_record_by_id(r.run_id).end_time for r in runs)
                intervals = []
                for r in runs:
                    starts = {}
                    for entry in instance.all_logs(r.run_id):
                        event = entry.dagster_event
                        if event is None or event.step_key not in POOLED:
                            continue  # the range steps the pool caps, not their checks
                        if event.event_type == dg.DagsterEventType.STEP_START:
                            starts[event.step_key] = entry.timestamp
                        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                            intervals.append((starts[event.step_key], entry.timestamp))
        finally:
            os.killpg(daemon.pid, signal.SIGINT)
            daemon.wait(timeout=120)
            # Without REDIS_URL the daemon's cache sensor starts dbopt's own Redis in its DBOPT_HOME,
            # which outlives the daemon: stop it with the benchmark's folder.
            from dbopt.embedded.redis import EmbeddedRedis

            EmbeddedRedis(home / "data" / "redis").stop()
    assert traffic.stats.errors == [], traffic.stats.errors[:3]
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    now = most = 0
    for _, delta in points:
        now += delta
        most = max(most, now)
    return ended - started, most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--pool", type=int, default=4)
    parser.add_argument("--url", default=None, help="a superuser URL of the server (default: embedded PostgreSQL)")
    args = parser.parse_args()
    admin = admin_url(args.url)
    template = seeded_template(admin, args.scale)
    one = clone(admin, template, "dbopt_bench_scale_one")
    out = clone(admin, template, "dbopt_bench_scale_out")
    before = {u: preexisting_order(u) for u in (one, out)}
    with psycopg.connect(one) as conn:
        (messages,) = conn.execute("SELECT count(*) FROM messages").fetchone()
        (server,) = conn.execute("SHOW server_version").fetchone()
        (autovacuum,) = conn.execute("SHOW autovacuum").fetchone()
    print(f"{args.scale}: {messages:,} messages; PostgreSQL {server}, autovacuum {autovacuum}; "
          f"{os.cpu_count()} cores", flush=True)
    one_s = one_worker(one)
    print(f"one worker (the job's three backfill steps, 16 ranges in one process): {one_s:,.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="dbopt_scale_out_") as home:
        out_s, most = scale_out(admin, out, args.pool, Path(home))
    print(f"scale-out (16 range runs through the daemon, pool {args.pool}): {out_s:,.1f} s "
          f"(at most {most} range steps at once)", flush=True)
    print(f"ratio one worker / scale-out: {one_s / out_s:.2f}x", flush=True)
    for url in (one, out):
        run_job(url, "phase1_postgres")
        bad = violations(url)
        moved = numbering_violations(url, before[url])
        print(f"  {db_name(url)}: phase1_postgres finished; invariant violations {bad or 'none'}; "
              f"numbering violations {len(moved)}", flush=True)


if __name__ == "__main__":
    main()
