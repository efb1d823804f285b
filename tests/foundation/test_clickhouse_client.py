"""The ClickHouse interface on chDB, and its errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dbopt.clickhouse.client import connect, parse_url
from dbopt.errors import ConnectionProblem, DboptError


def test_parameters_round_trip_with_clickhouse_syntax(ch) -> None:
    ch.command("CREATE TABLE t (id UUID, ts DateTime64(3, 'UTC'), n UInt64, s String) ENGINE = MergeTree ORDER BY id")
    pid = uuid.uuid4()
    ts = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    ch.command(
        "INSERT INTO t VALUES ({id:UUID}, {ts:DateTime64(3, 'UTC')}, {n:UInt64}, {s:String})",
        {"id": pid, "ts": ts, "n": 2**63, "s": "it's a \\ \n test"},
    )
    row = ch.dicts("SELECT toString(id) AS id, ts, n, s FROM t")[0]
    assert row == {"id": str(pid), "ts": ts, "n": 2**63, "s": "it's a \\ \n test"}
    assert ch.scalar("SELECT count() FROM t WHERE id IN {ids:Array(UUID)}", {"ids": [pid]}) == 1


def test_script_runs_every_statement(ch) -> None:
    n = ch.script("CREATE TABLE a (x UInt8) ENGINE = Memory; INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);")
    assert n == 3
    assert ch.scalar("SELECT sum(x) FROM a") == 3


def test_statement_errors_name_the_statement(ch) -> None:
    with pytest.raises(DboptError, match="ClickHouse rejected a statement.*SELEC 1"):
        ch.command("SELEC 1")


def test_unreachable_server_is_one_sentence_without_password() -> None:
    client = connect("http://default:s3cr3tpw@127.0.0.1:9/feed")
    with pytest.raises(ConnectionProblem) as err:
        client.scalar("SELECT 1")
    message = str(err.value)
    assert "s3cr3tpw" not in message
    assert "Cannot reach ClickHouse at http://default:***@127.0.0.1:9/feed" in message


def test_bad_urls_are_explained() -> None:
    with pytest.raises(DboptError, match="not understood"):
        parse_url("mysql://x@y/z")
    with pytest.raises(DboptError, match="absolute path"):
        parse_url("chdb://relative/path")
    target = parse_url("https://u:p@ch.example:8443/feed")
    assert (target.backend, target.host, target.port, target.database, target.secure) == (
        "http", "ch.example", 8443, "feed", True
    )


def test_chdb_lock_held_by_another_process_fails_clearly(tmp_path) -> None:
    """A second process on the same folder waits briefly, then says who to wait for."""
    import subprocess
    import sys
    import textwrap
    import time

    folder = tmp_path / "locked"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time, sys
            from chdb import session
            s = session.Session({str(folder)!r}); s.query("SELECT 1")
            print("ready", flush=True); time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        probe = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(f"""
                from dbopt.clickhouse.client import ChdbClient, parse_url
                from dbopt.errors import ConnectionProblem
                c = ChdbClient(parse_url("chdb://{folder}"), lock_wait_s=1.0)
                try:
                    c.scalar("SELECT 1")
                except ConnectionProblem as e:
                    print(e)
            """)],
            capture_output=True, text=True, timeout=120,
        )
        assert "is in use by another process" in probe.stdout, probe.stdout + probe.stderr
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.2)
