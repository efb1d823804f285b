"""The CLI as people expect it: help, version, and a sentence of its own for an unknown role
or a wrong password (on real servers that check passwords), with no piece of the password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbopt import cli, urls
from dbopt.embedded.postgres import EmbeddedPostgres
from dbopt.embedded.redis import EmbeddedRedis
from dbopt.errors import DboptError
from dbopt.postgres.connect import connect
from tests.leaks import assert_no_leak

PASSWORD = "Kj7/Hg6@Fd5"  # what the role really has
WRONG = "Wr0ng%2FPa55"  # percent-encoded in the URL: Wr0ng/Pa55


def test_dbopt_alone_prints_the_help(capsys) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: dbopt") and "seed" in out and "exit codes:" in out
    for variable in ("DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL", "DBOPT_HOME"):
        assert variable in out


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("dbopt ")


@pytest.fixture(scope="module")
def pg_with_passwords(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server of this module's own that checks passwords (scram) over TCP."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg-scram"))
    server.ensure_running()
    try:
        hba = server.pgdata / "pg_hba.conf"
        # Trust for a role that does not exist, so that the server says so (with a password
        # method it answers "password authentication failed" to hide which roles exist).
        hba.write_text("host all postgres 127.0.0.1/32 trust\nhost all nobody_here 127.0.0.1/32 trust\n"
                       "host all all 127.0.0.1/32 scram-sha-256\n")
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'")
        yield f"127.0.0.1:{server.port()}"
    finally:
        server.stop()


def refusal(url: str) -> str:
    """connect(url) fails with one sentence that shows no part of the password in `url`; the sentence."""
    with pytest.raises(DboptError) as failed:
        connect(url)
    message = str(failed.value)
    assert_no_leak(message, WRONG)
    return message


def test_an_unknown_role(pg_with_passwords: str) -> None:
    url = f"postgresql://nobody_here:{WRONG}@{pg_with_passwords}/postgres"
    message = refusal(url)
    assert "has no such role" in message and message.endswith("fix the user name in DATABASE_URL."), message


def test_a_wrong_password(pg_with_passwords: str, monkeypatch, capsys) -> None:
    url = f"postgresql://app:{WRONG}@{pg_with_passwords}/postgres"
    message = refusal(url)
    assert "refused the credentials; fix the user or password in DATABASE_URL." in message, message
    # The right one, percent-encoded, connects.
    from urllib.parse import quote

    connect(f"postgresql://app:{quote(PASSWORD, safe='')}@{pg_with_passwords}/postgres").close()
    # dbopt status says the same, as text and as JSON.
    monkeypatch.setenv("DATABASE_URL", url)
    cli.main(["status"])
    out = capsys.readouterr().out
    assert "refused the credentials" in out
    assert_no_leak(out, WRONG)
    assert cli.main(["status", "--json"]) == 1
    out = capsys.readouterr().out
    assert_no_leak(out, WRONG)
    (pg,) = [s for s in json.loads(out)["systems"] if s["system"] == "PostgreSQL"]
    assert pg["ok"] is False and "refused the credentials" in pg["summary"] and ":***@" in pg["where"]


def test_an_unknown_database(pg_with_passwords: str) -> None:
    url = f"postgresql://postgres:{WRONG}@{pg_with_passwords}/no_such_db"
    message = refusal(url)
    assert "has no such database" in message and message.endswith("fix the database name in DATABASE_URL."), message


def test_nothing_listening() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://app:{WRONG}@127.0.0.1:{port}/app"
    message = refusal(url)
    assert "nothing answers there" in message and message.endswith("fix the host and port in DATABASE_URL."), message


def test_a_wrong_redis_password(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.ensure_running()
    try:
        urls.redis_client(urls.redis(server.url())).config_set("requirepass", PASSWORD)
        port = server.port()
        with pytest.raises(DboptError) as failed:
            urls.redis_client(urls.redis(f"redis://default:{WRONG}@127.0.0.1:{port}/0"))
        message = str(failed.value)
        assert "refused the credentials; fix the user or password in REDIS_URL." in message, message
        assert_no_leak(message, WRONG)
    finally:
        import redis

        redis.Redis(host="127.0.0.1", port=server.port(), password=PASSWORD).config_set("requirepass", "")
        server.stop()
