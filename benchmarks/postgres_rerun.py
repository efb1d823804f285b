"""What a rerun of phase1_postgres with nothing to do costs (issue 14: under 5 s at `medium`).

Rolls Phase 1.1 out once on a copy of the seeded template, then reruns the job, each time in
its own process as `dagster job execute` does: with the checks' default scope (`sampled`:
what the run changed in full, a random sample of the rest) and with the run tag
`dbopt/checks=full` (every row, as every run did before). Prints the run's duration (Dagster's
RUN_START to RUN_SUCCESS), the process's wall clock (imports included), the median of the
reruns and their ratio, and where a sampled rerun spends its time, step by step.

    .venv/bin/python benchmarks/postgres_phase1.py --rerun --scale medium --url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import admin_url, clone, seeded_template

MODES = ("sampled", "full")


def _execute(url: str, home: str, tags: dict[str, str]) -> tuple[float, str]:
    """One run of phase1_postgres in its own process; its wall clock and run id."""
    from dagster import DagsterInstance

    before = time.perf_counter()
    job = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "pipelines.definitions",
         "-j", "phase1_postgres", "--tags", json.dumps(tags)],
        env={**os.environ, "DATABASE_URL": url, "DAGSTER_HOME": home, "DAGSTER_DISABLE_TELEMETRY": "true"},
        capture_output=True, text=True,
    )
    wall = time.perf_counter() - before
    if job.returncode != 0:
        print("\n".join(line for line in job.stderr.splitlines() if "Failure" in line or "ERROR" in line)[-2000:])
        raise SystemExit("phase1_postgres failed; figures would not be meaningful")
    with DagsterInstance.from_config(home) as instance:
        run_id = instance.get_run_records(limit=1)[0].dagster_run.run_id
    return wall, run_id


def _timings(home: str, run_id: str) -> tuple[float, dict[str, float]]:
    """The run's duration and each step's, from the event log."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(home) as instance:
        records = instance.all_logs(run_id)
    kinds = {r.dagster_event.event_type_value: r.timestamp for r in records if r.dagster_event}
    run_start = kinds.get("RUN_START", kinds.get("PIPELINE_START"))  # the stored name differs by version
    run_end = kinds.get("RUN_SUCCESS", kinds.get("PIPELINE_SUCCESS"))
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    for r in records:
        event = r.dagster_event
        if event is None or not r.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[r.step_key] = r.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and r.step_key in starts:
            steps[r.step_key] = r.timestamp - starts[r.step_key]
    return run_end - run_start, steps


def rerun(url_arg: str | None, scale: str, repeats: int) -> None:
    admin = admin_url(url_arg)
    template = seeded_template(admin, scale)
    url = clone(admin, template, "dbopt_bench_rerun")
    with tempfile.TemporaryDirectory() as home:
        Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        import psycopg

        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            version = conn.execute("SHOW server_version").fetchone()[0]
            autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
        print(f"the rollout itself on {rows:,} messages ({scale}) ...", flush=True)
        first_wall, first_id = _execute(url, home, {})
        first_s, _ = _timings(home, first_id)
        print(f"  {first_s:.1f} s", flush=True)
        results: dict[str, list[tuple[float, float, dict[str, float]]]] = {m: [] for m in MODES}
        for i in range(repeats):
            for mode in MODES:
                wall, run_id = _execute(url, home, {"dbopt/checks": mode})
                run_s, steps = _timings(home, run_id)
                results[mode].append((run_s, wall, steps))
                print(f"  rerun {i + 1} ({mode}): run {run_s:.2f} s, process {wall:.2f} s", flush=True)

    print()
    print(f"PostgreSQL {version} (autovacuum {autovacuum}), {rows:,} messages ({scale}); the rollout took "
          f"{first_s:.0f} s; {repeats} reruns each, medians")
    print()
    print("| rerun with nothing to do | checks read | run (RUN_START to RUN_SUCCESS) | process (incl. imports) |")
    print("|---|---|---|---|")
    med = {m: (statistics.median(r[0] for r in results[m]), statistics.median(r[1] for r in results[m])) for m in MODES}
    print(f"| tag dbopt/checks=full (every row: what every run did before) | every row | {med['full'][0]:.2f} s "
          f"| {med['full'][1]:.2f} s |")
    print(f"| default (sampled) | changed ranges in full + random sample | {med['sampled'][0]:.2f} s "
          f"| {med['sampled'][1]:.2f} s |")
    print(f"| ratio | | {med['sampled'][0] / med['full'][0]:.2f}x | {med['sampled'][1] / med['full'][1]:.2f}x |")
    print()
    print("| step (sampled rerun, median) | seconds | full: seconds |")
    print("|---|---|---|")
    keys = results["sampled"][0][2].keys()
    per = {
        k: (statistics.median(r[2].get(k, 0.0) for r in results["sampled"]),
            statistics.median(r[2].get(k, 0.0) for r in results["full"]))
        for k in keys
    }
    for key, (s, f) in sorted(per.items(), key=lambda kv: -kv[1][1])[:15]:
        print(f"| {key} | {s:.2f} | {f:.2f} |")
    print(f"| sum of steps | {sum(s for s, _ in per.values()):.2f} | {sum(f for _, f in per.values()):.2f} |")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "dbopt_bench_rerun" WITH (FORCE)')
