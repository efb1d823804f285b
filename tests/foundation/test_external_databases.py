"""`dbopt demo` and `dbopt seed` leave alone every database dbopt did not start itself.

The application's database here is a seeded database the test created on a real server
(the embedded one of the test session, or TEST_DATABASE_URL's): for this test's data folder
it is a server dbopt did not start. Refused commands change nothing (a digest of every row
of every table is the same); with the flag that names the consequence they proceed.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dbopt import cli, urls
from dbopt.postgres import baseline

FLAG = "--overwrite-external-database"


def digest(url: str) -> dict[str, str]:
    """md5 over the ordered rows of every table of the public schema, and the schema's columns."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        out = {t: conn.execute(f'SELECT md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) '
                               f'FROM public."{t}" t').fetchone()[0] for t in tables}
        out["columns"] = conn.execute(
            "SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type, ',' "
            "ORDER BY table_name, column_name)) FROM information_schema.columns WHERE table_schema = 'public'"
        ).fetchone()[0]
    return out


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of its own: dbopt started no server for it."""
    monkeypatch.setenv("DBOPT_HOME", str(tmp_path))
    for variable in ("DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "consequence"),
    [
        (["seed", "--reset", "--scale", "tiny", "--only", "postgres"], "`dbopt seed --reset` drops the baseline tables"),
        (["seed", "--scale", "tiny", "--only", "postgres"], "`dbopt seed` creates the baseline tables"),
        (["demo", "--scale", "tiny"], "`dbopt demo` drops every baseline table"),
    ],
)
def test_refused_on_the_applications_database(args: list[str], consequence: str, seeded_pg_url: str, elsewhere: Path,
                                              monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", seeded_pg_url)
    before = digest(seeded_pg_url)
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"dbopt: {consequence}") and err.count("\n") == 0 and err.endswith(".")
    assert "DATABASE_URL " in err and "did not start" in err and FLAG in err
    assert digest(seeded_pg_url) == before
    assert not (elsewhere / "postgres").exists()  # nothing started either


@pytest.mark.parametrize(
    ("variable", "url", "args"),
    [
        ("CLICKHOUSE_URL", "http://default:Zx1%2FCv2@127.0.0.1:9/feed", ["seed", "--reset", "--only", "clickhouse"]),
        ("REDIS_URL", "redis://127.0.0.1:9/0", ["demo", "--scale", "tiny"]),
    ],
)
def test_refused_on_a_clickhouse_server_or_a_redis_dbopt_did_not_start(variable: str, url: str, args: list[str],
                                                                      elsewhere: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(variable, url)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert f"{variable} " in err and "did not start" in err and FLAG in err
    assert "Zx1" not in err and "Cv2" not in err


def test_with_the_flag_seed_reset_proceeds(seeded_pg_url: str, elsewhere: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", seeded_pg_url)
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.not_ours (id int)")  # the reset drops only the baseline tables
        conn.execute("INSERT INTO public.not_ours VALUES (1)")
        conversations = conn.execute("SELECT count(*) FROM public.conversations").fetchone()[0]
        conn.execute("DELETE FROM public.message_reactions")
    assert cli.main(["seed", "--reset", "--scale", "tiny", "--only", "postgres", FLAG]) == 0, capsys.readouterr().err
    with psycopg.connect(seeded_pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.message_reactions").fetchone()[0] > 0  # re-seeded
        assert conn.execute("SELECT count(*) FROM public.conversations").fetchone()[0] == conversations
        assert conn.execute("SELECT count(*) FROM public.not_ours").fetchone()[0] == 1
        assert not baseline.inspect(conn).missing


def test_dbopts_own_servers_need_no_flag(embedded_pg, embedded_redis, monkeypatch) -> None:
    """The embedded servers of the data folder, named by URL or not, are dbopt's own."""
    for variable in ("DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL"):
        monkeypatch.delenv(variable, raising=False)
    assert urls.postgres(start=False).embedded and urls.redis(start=False).embedded and urls.clickhouse().embedded
    monkeypatch.setenv("DATABASE_URL", embedded_pg.url("some_database"))
    monkeypatch.setenv("REDIS_URL", embedded_redis.url())
    assert urls.postgres().embedded and urls.redis().embedded
    monkeypatch.setenv("DATABASE_URL", embedded_pg.url().replace("127.0.0.1", "db.example.com"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    assert not urls.postgres().embedded and not urls.redis().embedded
