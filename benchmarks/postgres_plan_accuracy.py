"""Benchmark of postgres_plan (issue 15, not a test): how close the predicted duration of
phase1_postgres is to the measured one, per step and in total, and the predicted sizes of
the new indexes to the built ones, from one run.

Clones a seeded template, then runs the whole phase1_postgres job in this process: its
postgres_preflight, postgres_plan (calibrated on this database from its rolled-back sample)
and every step with its checks, and prints phase1_postgres_contract's receipt (the plan's
prediction against the ledger's actual time of each step), the job's measured wall time
after the plan against the plan's total, and each new index's predicted against built size.
With --clickhouse it then runs benchmarks/clickhouse_plan_accuracy.py's measurement in the
same process, so both systems' plans are measured in one run.

    flock /tmp/heavy.lock .venv/bin/python benchmarks/postgres_plan_accuracy.py --scale medium \
        --url postgresql://postgres@127.0.0.1:5432/postgres [--clickhouse]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import psycopg  # noqa: E402

from benchmarks.common import admin_url, clone, db_name, seeded_template  # noqa: E402
from dbopt.postgres import rollout_plan  # noqa: E402

# An index's size as built: polled while the job runs, the first size seen once it is valid
# (later steps' updates add entries to it, so its size at the end is not what was built).
INDEX_SIZE_SQL = """
SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = ANY (%s) AND i.indisvalid
"""


def watch_index_sizes(url: str, names: list[str], built: dict[str, int], stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            for name, size in conn.execute(INDEX_SIZE_SQL, (names,)).fetchall():
                built.setdefault(name, size)
            stop.wait(0.2)


def materialization(result, asset: str):
    [mat] = result.asset_materializations_for_node(asset)
    return mat.metadata


def measure(scale: str, url: str | None, sample_rows: int = rollout_plan.PlanSettings().sample_rows,
            keep: bool = False) -> dict:
    """Run phase1_postgres on a fresh clone of `scale` and print predicted against measured;
    returns the totals and the index sizes (drops its clone unless `keep`)."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    admin = admin_url(url)
    template = seeded_template(admin, scale, name=f"dbopt_pgplan_{scale}")
    url = clone(admin, template, f"dbopt_pgplan_{scale}_run")
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
    load = os.getloadavg()
    print(f"PostgreSQL {version} (autovacuum {autovacuum}), {scale} cloned into {db_name(url)}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, load average {load[0]:.1f}")

    from dbopt.postgres import phase1
    from dbopt.postgres.runner import ConcurrentIndex

    names = {s.name: s.target()[0] for _, s in phase1.forward_steps() if isinstance(s, ConcurrentIndex)}
    built: dict[str, int] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_index_sizes, args=(url, list(names.values()), built, stop), daemon=True)
    watcher.start()
    instance = dg.DagsterInstance.ephemeral()
    run_config = {"ops": {"postgres_plan": {"config": {"sample_rows": sample_rows}}}}
    started = time.perf_counter()
    result = defs.resolve_job_def("phase1_postgres").execute_in_process(
        resources={"postgres": PostgresResource(database_url=url)}, run_config=run_config, instance=instance,
        raise_on_error=False)
    wall = time.perf_counter() - started
    stop.set()
    watcher.join()
    stats = {s.step_key: s for s in instance.get_run_step_stats(result.run_id)}
    plan_end = stats["postgres_plan"].end_time
    rollout_s = max(s.end_time for s in stats.values() if s.end_time) - plan_end
    plan_meta = materialization(result, "postgres_plan")
    steps = plan_meta["plan_json"].value["steps"]
    receipt = [r.data for r in materialization(result, "phase1_postgres_contract")["receipt"].value.records]
    print(f"phase1_postgres: {'succeeded' if result.success else 'FAILED'} in {wall:.1f} s wall; preflight "
          f"{stats['postgres_preflight'].end_time - stats['postgres_preflight'].start_time:.1f} s, plan "
          f"{stats['postgres_plan'].end_time - stats['postgres_plan'].start_time:.1f} s, the rollout after the plan "
          f"(every step and check) {rollout_s:.1f} s; load average now {os.getloadavg()[0]:.1f}\n")
    print(f"{'step':<52} {'predicted s':>12} {'range s':>16} {'actual s':>10} {'actual/pred':>12}")
    for r in receipt:
        print(f"{r['step']:<52} {r['predicted_s']:>12} {r['range_s']:>16} {str(r['actual_s']):>10} "
              f"{str(r['actual/predicted']):>12}")

    # Each backfill as the engine ran it (batches, VACUUMs), against the plan's basis for it.
    basis = {s["step"]: s["basis"] for s in steps if s["kind"] == "backfill" and s["todo"]}
    for node in ("conversation_counters_backfill", "sequence_number_backfill", "content_tsv_backfill"):
        for mat in result.asset_materializations_for_node(node):
            if "backfills" in mat.metadata:
                for r in mat.metadata["backfills"].value.records:
                    d = r.data
                    print(f"  {d['backfill']}: ran {d['rows']:,} rows in {d['batches']:,} batches, {d['seconds']} s, "
                          f"{d['vacuums']} VACUUMs {d['vacuum_s']} s, paused {d['paused_s']} s; plan: "
                          f"{basis.get(d['backfill'], '-')}")

    total = next(s for s in steps if s["step"] == rollout_plan.ORCHESTRATION)
    predicted_total = sum(s["seconds"] for s in steps if s["todo"])
    err = predicted_total / rollout_s - 1  # the prediction's error, against the measured time (issue 15)
    print(f"\ntotal: predicted {predicted_total:.1f} s (of which checks and orchestration {total['seconds']:.1f} s), "
          f"measured {rollout_s:.1f} s: {err:+.0%} ({'within' if abs(err) <= 0.35 else 'OUTSIDE'} +-35%)")

    indexes = {s["step"]: s for s in steps if s["kind"] == "index"}
    print(f"\n{'index':<40} {'predicted':>12} {'built':>12} {'pred/built':>11}")
    worst = 0.0
    for step, index in names.items():
        predicted = indexes[step]["index_bytes"]
        ratio = predicted / built[index] if built.get(index) else float("inf")
        worst = max(worst, abs(ratio - 1))
        print(f"{index:<40} {rollout_plan.human_bytes(predicted):>12} {rollout_plan.human_bytes(built.get(index, 0)):>12} "
              f"{ratio:>11.2f}")
    print(f"worst index size error {worst:.0%} ({'within' if worst <= 0.35 else 'OUTSIDE'} +-35%)")
    if not keep:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "dbopt_pgplan_{scale}_run" WITH (FORCE)')
    return {"succeeded": result.success, "predicted_s": predicted_total, "measured_s": rollout_s, "error": err,
            "worst_index_error": worst, "receipt": receipt,
            "indexes": {index: (indexes[step]["index_bytes"], built.get(index, 0)) for step, index in names.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--url", help="superuser URL of a PostgreSQL server (default: the embedded one)")
    parser.add_argument("--sample-rows", type=int, default=rollout_plan.PlanSettings().sample_rows)
    parser.add_argument("--clickhouse", action="store_true", help="then measure clickhouse_plan too (same run)")
    parser.add_argument("--chdb-folder", default="/tmp/dbopt-bench-chplan")
    args = parser.parse_args()
    measure(args.scale, args.url, args.sample_rows, keep=True)
    if args.clickhouse:
        from benchmarks import clickhouse_plan_accuracy

        print("\n--- ClickHouse, same run ---")
        clickhouse_plan_accuracy.measure(args.scale, args.chdb_folder)


if __name__ == "__main__":
    main()
