"""No piece of a password shows anywhere, whatever the shape of the URL: `dbopt status`, a job's
failure (event log, metadata, logs), the resources' own errors, and `dagster job execute`.

Each URL points at a closed port, so an accepted URL fails at its connection; a URL with
unencoded special characters in its password is refused before any connection, in one
sentence that says to percent-encode them.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dbopt import cli
from dbopt.errors import DboptError
from tests.leaks import NASTY_URLS, UNENCODED, assert_no_leak

# A job that needs each system first; the others run on the embedded servers.
JOB_OF = {"DATABASE_URL": "phase1_postgres", "CLICKHOUSE_URL": "partition_cleanup", "REDIS_URL": "warm_cache"}
VARIABLES = ("DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL")


@pytest.fixture
def servers(embedded_pg, embedded_redis, chdb_folder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded servers this process's DBOPT_HOME points at, for the systems not under test."""
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize(("variable", "url", "password"), NASTY_URLS)
def test_dbopt_status(variable: str, url: str, password: str, servers, monkeypatch, capsys, caplog) -> None:
    monkeypatch.setenv(variable, url)
    with caplog.at_level(logging.DEBUG):
        code = cli.main(["status"])
    out = capsys.readouterr()
    text = out.out + out.err + caplog.text
    assert code == 1, text  # the system under test is not reachable
    assert_no_leak(text, password)
    if url in UNENCODED:
        assert "must be percent-encoded" in text


@pytest.mark.parametrize(("url", "password"), [(u, p) for v, u, p in NASTY_URLS if v == "DATABASE_URL"])
def test_dbopt_plan(url: str, password: str, monkeypatch, capsys, caplog, only_postgres_configured) -> None:
    """The preflight's refusal to connect (or to accept the URL) shows no piece of the password."""
    monkeypatch.setenv("DATABASE_URL", url)
    with caplog.at_level(logging.DEBUG):
        code = cli.main(["plan"])
    out = capsys.readouterr()
    text = out.out + out.err + caplog.text
    assert code == 2, text
    assert_no_leak(text, password)


@pytest.mark.parametrize(("variable", "url", "password"), NASTY_URLS)
def test_a_failed_job(variable: str, url: str, password: str, servers, monkeypatch, caplog) -> None:
    from pipelines.definitions import defs

    monkeypatch.setenv(variable, url)
    instance = dg.DagsterInstance.ephemeral()
    with caplog.at_level(logging.DEBUG):
        result = defs.resolve_job_def(JOB_OF[variable]).execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    records = instance.all_logs(result.run_id)
    text = "\n".join(dg.serialize_value(r) for r in records) + caplog.text
    assert_no_leak(text, password)
    failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert failures
    if url in UNENCODED:
        assert any("must be percent-encoded" in f for f in failures), failures


@pytest.mark.parametrize(("variable", "url", "password"), NASTY_URLS)
def test_the_resources_errors(variable: str, url: str, password: str) -> None:
    from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource

    def use() -> None:
        if variable == "DATABASE_URL":
            PostgresResource(database_url=url).connector().pool()
        elif variable == "CLICKHOUSE_URL":
            ClickHouseResource(clickhouse_url=url).client().scalar("SELECT 1")
        else:
            RedisResource(redis_url=url).client()

    with pytest.raises(DboptError) as failed:
        use()
    message = str(failed.value)
    assert_no_leak(message, password)
    # No driver exception chained to it (a traceback would print the driver's text).
    exc = failed.value
    assert message.endswith(".") and exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    assert ("must be percent-encoded" in message) == (url in UNENCODED), message


@pytest.mark.parametrize(
    ("variable", "url", "password"),
    [c for c in NASTY_URLS if c[1] in ("postgresql://app:Xy9/Qw7+zK4@127.0.0.1:9/app",
                                       "http://default:Xy9/Qw7+zK4@#p%:z@127.0.0.1:9/feed")],
)
def test_dagster_job_execute(variable: str, url: str, password: str, servers, tmp_path: Path) -> None:
    """The contract's command, as an operator runs it: nothing it prints holds the password."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update({variable: url, "DAGSTER_HOME": str(tmp_path)})
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dagster = Path(sys.executable).parent / "dagster"
    proc = subprocess.run([str(dagster), "job", "execute", "-m", "pipelines.definitions", "-j", JOB_OF[variable]],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "STEP_FAILURE" in text or "RUN_FAILURE" in text, text[-2000:]
    assert_no_leak(text, password)
    assert ("must be percent-encoded" in text) == (url in UNENCODED)
