"""Helpers for the PostgreSQL tests: run a job in-process, read the rollout's invariants."""

from __future__ import annotations

import contextlib
from typing import Any

import dagster as dg
import psycopg
import pytest

from dbopt.postgres.connect import PgConnector


def run_job(url: str, name: str, run_config: dict[str, Any] | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    return defs.resolve_job_def(name).execute_in_process(
        resources={"postgres": PostgresResource(database_url=url)},
        run_config=run_config or {},
        raise_on_error=False,
        **kwargs,
    )


def all_resources(url: str) -> dict[str, Any]:
    """Every resource the code location's assets need; only PostgreSQL is used by these tests,
    and the others open nothing unless an asset of their system runs."""
    from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource

    return {"postgres": PostgresResource(database_url=url), "clickhouse": ClickHouseResource(), "redis": RedisResource()}


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    out = []
    for event in result.all_events:
        data = event.event_specific_data
        if event.is_failure and getattr(data, "error", None):
            out.append(data.error.message)
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not data.passed:
            out.append(f"check {data.check_name} failed")
    return out


@pytest.fixture
def connector(seeded_pg_url: str):
    c = PgConnector(seeded_pg_url)
    yield c
    c.close()


def app_snapshot(url: str) -> dict[str, str]:
    """A digest of every baseline row, to prove a step touched no application data."""
    queries = {
        "conversations": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM (SELECT id, privacy_mode, created_at, updated_at FROM conversations) t",
        "conversation_members": "SELECT md5(string_agg(t::text, '|' ORDER BY conversation_id, user_id)) FROM conversation_members t",
        "messages": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM (SELECT id, conversation_id, sender_id, content, content_encrypted, content_nonce, message_type, version_number, created_at, updated_at, recalled_at, deleted_at FROM messages) t",
        "message_reactions": "SELECT md5(string_agg(t::text, '|' ORDER BY message_id, user_id, emoji)) FROM message_reactions t",
        "message_attachments": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM message_attachments t",
        "posts": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM posts t",
    }
    with psycopg.connect(url) as conn:
        return {name: conn.execute(q).fetchone()[0] for name, q in queries.items()}


# --- PgBouncer (the transaction-pooler preflight test) ---------------------------------------
# Debian's `pgbouncer` (`make pgbouncer`, run by .ci/run). Without it the test is deselected,
# with a line in the summary saying so, like the UI test without Chromium. It runs on one
# server: the system PostgreSQL when there is one, else the embedded PostgreSQL 18 (what a
# pooler does to sessions does not depend on the server's version).
PGBOUNCER_TESTS = {
    "test_transaction_pooler_stops_phase1_before_any_change",
    "test_a_pooler_refusing_dbopt_session_settings_is_one_sentence",
}


def pgbouncer_binary() -> str | None:
    import shutil

    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import os

    missing = pgbouncer_binary() is None
    server = "system" if os.environ.get("TEST_DATABASE_URL") else "embedded"
    drop, absent = [], 0
    for item in items:
        if getattr(item, "originalname", item.name) not in PGBOUNCER_TESTS:
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if missing or params.get("pg_admin_url") != server:
            drop.append(item)
            absent += missing
    if drop:
        for item in drop:
            items.remove(item)
        config.hook.pytest_deselected(items=drop)
        config._dbopt_pgbouncer_deselected = absent  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    count = getattr(config, "_dbopt_pgbouncer_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} PgBouncer test(s) not run: pgbouncer is not installed (run `make pgbouncer`, as CI does).",
            yellow=True,
        )


@pytest.fixture
def pgbouncer(tmp_path, seeded_pg_url: str):
    """A real PgBouncer in transaction mode in front of this test's database; its URL.

    Started by the test on a free port with its config in tmp_path, stopped afterwards.
    It ignores libpq's `options` (as deployments that let dbopt connect at all must), so the
    connection succeeds and what breaks is what transaction pooling breaks."""
    with start_pgbouncer(tmp_path, seeded_pg_url, ignore_options=True) as url:
        yield url


@contextlib.contextmanager
def start_pgbouncer(tmp_path, server_url: str, *, ignore_options: bool):
    import os
    import pwd
    import socket
    import subprocess
    import time

    params = psycopg.conninfo.conninfo_to_dict(server_url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    user = params.get("user") or "postgres"
    (tmp_path / "users.txt").write_text(f'"{user}" "{params.get("password") or ""}"\n')
    ini = tmp_path / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={params.get('host') or '127.0.0.1'} port={params.get('port') or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {tmp_path / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 4\nmax_client_conn = 50\n"
        + ("ignore_startup_parameters = options, extra_float_digits\n" if ignore_options else "")
    )
    args = [pgbouncer_binary() or "pgbouncer"]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root; it reads its config before switching
        args += ["-u", next(u for u in ("postgres", "nobody") if _user_exists(pwd, u))]
    log = (tmp_path / "pgbouncer.log").open("w")
    proc = subprocess.Popen([*args, str(ini)], stdout=log, stderr=subprocess.STDOUT)
    url = psycopg.conninfo.make_conninfo(server_url, host="127.0.0.1", port=str(port))
    try:
        deadline = time.monotonic() + 30
        while True:  # readiness, not timing: wait until it accepts a connection
            try:
                with psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError as exc:
                if "unsupported startup parameter" in str(exc):
                    break  # up, and refusing what it was configured to refuse
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("pgbouncer did not start: " + (tmp_path / "pgbouncer.log").read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _user_exists(pwd, name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
