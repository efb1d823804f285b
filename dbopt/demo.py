"""`dbopt demo`: every rollout job in order on freshly seeded data, and what each did.

It reads the figures the assets put in their metadata (PREFERRED_METADATA names the keys),
so it lives beside the code location's vocabulary rather than in the command line.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dbopt.devserver import prepare_dagster_home
from dbopt.paths import data_dir

# The benchmark runs on each side of Phase 1, so its report has a "Before" and an "after".
ROLLOUT_JOBS = ("workload_benchmark", "phase1_postgres", "phase1_clickhouse", "partition_cleanup", "workload_benchmark")
# The demo prints its own summary of each job; the full logs are in the UI.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

# The metadata keys of the assets shown per job, in this order (the first four present).
PREFERRED_METADATA = ("rows", "rows_per_s", "duration_s", "applied", "skipped", "months", "partitions_dropped",
                      "rows_freed", "bytes_freed", "rows_copied", "rollup_rows", "months_backfilled",
                      "events_in_backfilled_months", "dry_run", "patterns_measured", "answers_compared",
                      "answers_different")


def run(scale: str, *, up: Callable[[], object], seed: Callable[[], object], say: Callable[..., None]) -> int:
    """Up, seed (`seed` resets), each job of ROLLOUT_JOBS, the benchmark's targets table.
    Exit code 0 when every job succeeded, else 1."""
    started = time.monotonic()
    say("== 1. Embedded databases")
    up()
    say()
    say(f"== 2. Seed ({scale})")
    seed()
    say()
    say("== 3. Rollout jobs, in order")
    prepare_dagster_home()
    import dagster as dg

    from pipelines.definitions import defs

    names = [n for n in ROLLOUT_JOBS if _has_job(defs, n)]
    instance = dg.DagsterInstance.get()
    failed = []
    for i, name in enumerate(names):
        t = time.monotonic()
        when = ""
        if name == "workload_benchmark":
            when = "after Phase 1, " if "phase1_postgres" in names[:i] else "before Phase 1: the old code, "
        say(f"-- {name} ({when}running; its full log is in the UI afterwards)")
        result = defs.resolve_job_def(name).execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET_LOGS
        )
        for line in summarize(result):
            say(f"   {line}")
        say(f"   {'succeeded' if result.success else 'FAILED'} in {time.monotonic() - t:.0f} s (run {result.run_id[:8]})")
        if not result.success:
            failed.append(name)
    say()
    report = data_dir() / "reports" / "workload_benchmark.md"
    if report.exists():
        say("== 4. The plan's targets, measured on this data (before -> after)")
        say(report.read_text().strip())
        say()
    say(f"Demo finished in {time.monotonic() - started:.0f} s"
        + (f"; failed: {', '.join(failed)}" if failed else "; every job succeeded") + ".")
    say("Open the UI with `make ui` (or `.venv/bin/dbopt ui`) and go to http://127.0.0.1:3000 to see these runs.")
    return 1 if failed else 0


def _has_job(defs, name: str) -> bool:
    try:
        defs.resolve_job_def(name)
    except Exception:  # DagsterInvariantViolationError: no such job
        return False
    return True


def _figure(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.1f}" if isinstance(value, float) and abs(value) < 100 else f"{value:,.0f}"


def summarize(result) -> list[str]:
    """One line per asset (its key figures) and one for the checks."""
    lines: list[str] = []
    passed = failed = warned = 0
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            figures = []
            for key in PREFERRED_METADATA:
                if key in mat.metadata:
                    value = mat.metadata[key].value
                    figures.append(f"{key}={_figure(value)}")
            lines.append(f"{mat.asset_key.to_user_string():<36} {' '.join(figures[:4])}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            check = event.event_specific_data
            if check.passed:
                passed += 1
            elif check.severity.value == "WARN":
                warned += 1
                lines.append(f"check {check.check_name} missed (a warning)")
            else:
                failed += 1
                lines.append(f"check {check.check_name} FAILED")
        elif event.is_failure and getattr(event.event_specific_data, "error", None):
            message = event.event_specific_data.error.message.strip().splitlines()
            lines.append(f"error: {message[-1][:200] if message else 'see the run in the UI'}")
    lines.append(f"checks: {passed} passed, {failed} failed" + (f", {warned} warning{'s' * (warned > 1)}" if warned else ""))
    return lines
