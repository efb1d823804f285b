"""Sessions of dbopt that a dead or stuck worker leaves behind end by themselves."""

from __future__ import annotations

import time

import psycopg
import pytest

from dbopt.postgres.connect import KEEPALIVES, PgConnector


def test_idle_in_transaction_session_holding_a_lock_is_ended_by_the_server(seeded_pg_url: str) -> None:
    """A worker that stops mid-step with ACCESS EXCLUSIVE on messages does not block writers for long."""
    connector = PgConnector(seeded_pg_url, idle_in_transaction_timeout_s=1)
    stuck = connector.dedicated()
    params = stuck.info.get_parameters()
    assert {k: params.get(k) for k in KEEPALIVES} == {k: str(v) for k, v in KEEPALIVES.items()}
    stuck.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
    pid = stuck.info.backend_pid
    # The worker now "dies" without closing its connection: it simply never talks again.
    with psycopg.connect(seeded_pg_url, autocommit=True) as app:
        deadline = time.monotonic() + 30
        while app.execute("SELECT count(*) FROM pg_locks WHERE pid = %s", (pid,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the idle session still holds its locks after 30 s"
            time.sleep(0.2)
        app.execute("SET lock_timeout = '5s'")
        app.execute("SELECT count(*) FROM messages")  # the table is free again
    with pytest.raises((psycopg.OperationalError, psycopg.errors.IdleInTransactionSessionTimeout)):
        stuck.execute("SELECT 1")
    stuck.close()
    connector.close()
