"""The Great Expectations suites run under a statement_timeout and say when they hit it."""

from __future__ import annotations

import psycopg
import pytest

from dbopt.errors import DboptError
from pipelines import gx_postgres


def test_a_check_query_longer_than_its_statement_timeout_fails_saying_so(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE gx_t (id int)")
        conn.execute("INSERT INTO gx_t VALUES (1)")
    slow = gx_postgres.Expectation("no_rows", "slow check", query="SELECT 1 AS x FROM pg_sleep(5)")
    with pytest.raises(DboptError, match=r"'slow check' on gx_t: it ran longer than its statement timeout of 0.5 s"):
        gx_postgres.validate(pg_url, "gx_t", [slow], statement_timeout_s=0.5)
    quick = gx_postgres.Expectation("no_rows", "quick check", query="SELECT id FROM gx_t WHERE id < 0")
    assert gx_postgres.validate(pg_url, "gx_t", [quick], statement_timeout_s=0.5)[0].success
