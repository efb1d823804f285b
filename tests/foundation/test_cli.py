"""The dbopt CLI, run as a user runs it: a subprocess, real servers, its own data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
OVERWRITE = "--overwrite-external-database"


def dbopt(*args: str, env: dict[str, str] | None = None, home: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL")}
    full_env.update({"DBOPT_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")})
    full_env.update(env or {})
    return subprocess.run([str(BIN / "dbopt"), *args], env=full_env, capture_output=True, text=True, timeout=timeout)


def last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in (proc.stdout + proc.stderr).strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({"DATABASE_URL": "postgresql://app:s3cret@127.0.0.1:9/app"}, ("seed", "--only", "postgres", OVERWRITE),
         "dbopt: Cannot connect to PostgreSQL at postgresql://app:***@127.0.0.1:9/app"),
        ({"DATABASE_URL": "postgres://app:s3cret@host with spaces/app"}, ("seed", "--only", "postgres", OVERWRITE),
         "is not a valid PostgreSQL URL"),
        ({"CLICKHOUSE_URL": "http://default:s3cret@127.0.0.1:9/feed"}, ("seed", "--only", "clickhouse", OVERWRITE),
         "dbopt: Cannot reach ClickHouse at http://default:***@127.0.0.1:9/feed"),
        ({"CLICKHOUSE_URL": "clickhouse://x"}, ("seed", "--only", "clickhouse", OVERWRITE), "is not understood"),
    ],
)
def test_bad_environment_ends_in_one_sentence(tmp_path: Path, env, args, expected) -> None:
    proc = dbopt(*args, env=env, home=tmp_path)
    assert proc.returncode == 2
    line = last_line(proc)
    assert expected in line and line.endswith("."), line
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "s3cret" not in proc.stdout + proc.stderr


def test_status_says_where_each_database_stands(tmp_path: Path, pg_url: str, ch_url: str) -> None:
    # A database without the baseline tables: status says so, with the fix.
    proc = dbopt("status", env={"DATABASE_URL": pg_url, "CLICKHOUSE_URL": f"chdb://{tmp_path}/ch"}, home=tmp_path)
    out = proc.stdout
    assert proc.returncode == 1
    assert "baseline tables missing" in out and "run `dbopt seed`" in out
    assert "Traceback" not in out + proc.stderr


def test_seed_then_status_on_a_fresh_database(tmp_path: Path, pg_url: str) -> None:
    env = {"DATABASE_URL": pg_url, "CLICKHOUSE_URL": f"chdb://{tmp_path}/ch", "REDIS_URL": "redis://127.0.0.1:9/0"}
    seeded = dbopt("seed", "--scale", "tiny", OVERWRITE, env=env, home=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "postgres messages" in seeded.stdout and "clickhouse likes_cdc" in seeded.stdout
    status = dbopt("status", env=env, home=tmp_path)
    assert "baseline present (~6,000 messages" in status.stdout
    assert "baseline CDC tables present" in status.stdout
    assert "Redis" in status.stdout and "Cannot reach Redis" in status.stdout  # REDIS_URL points nowhere
    again = dbopt("seed", "--scale", "tiny", OVERWRITE, env=env, home=tmp_path)
    assert again.returncode == 2 and "pass --reset" in last_line(again)


def test_status_json_for_scripts(tmp_path: Path, seeded_pg_url: str) -> None:
    """One JSON document, every URL redacted: the password below is accepted by the suite's
    server (trust on loopback) and must appear nowhere."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(seeded_pg_url)
    secret = "Sc4nMe-N0t"
    with_password = (f"postgresql://{params.get('user') or 'postgres'}:{secret}@{params.get('host') or '127.0.0.1'}:"
                     f"{params.get('port') or 5432}/{params['dbname']}")
    env = {"DATABASE_URL": with_password, "CLICKHOUSE_URL": f"chdb://{tmp_path}/ch", "REDIS_URL": "redis://127.0.0.1:9/0"}
    proc = dbopt("status", "--json", env=env, home=tmp_path)
    assert secret not in proc.stdout + proc.stderr
    document = json.loads(proc.stdout)
    assert proc.returncode == 1 and document["ok"] is False  # Redis points nowhere, chDB has no baseline
    assert document["format"] == 1 and document["dbopt_version"]
    systems = {s["system"]: s for s in document["systems"]}
    assert list(systems) == ["PostgreSQL", "ClickHouse", "Redis"]
    pg = systems["PostgreSQL"]
    assert pg["ok"] is True and ":***@" in pg["where"] and "baseline present" in pg["summary"]
    assert systems["Redis"]["ok"] is False and "Cannot reach Redis" in systems["Redis"]["summary"]
    assert all(set(s) == {"system", "where", "ok", "summary", "steps"} for s in document["systems"])


def test_each_command_says_what_it_reads_and_writes(tmp_path: Path) -> None:
    alone = dbopt(home=tmp_path)
    assert alone.returncode == 0 and alone.stdout.startswith("usage: dbopt") and "exit codes:" in alone.stdout
    version = dbopt("--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("dbopt ")
    for command in ("up", "down", "seed", "status", "plan", "ui", "demo"):
        proc = dbopt(command, "--help", home=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "reads:" in proc.stdout and "writes:" in proc.stdout and "exit codes:" in proc.stdout, command
        assert "DBOPT_HOME" in proc.stdout, command
    wrong = dbopt("nonsense", home=tmp_path)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
