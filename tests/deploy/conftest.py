"""A team deployment's Dagster instance: deploy/dagster.yaml as shipped, its storage in a
fresh database on the test PostgreSQL (each server of the suite in turn)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest

from dbopt.paths import REPO_ROOT
from tests.conftest import _drop_database, _with_db


@dataclass
class TeamHome:
    home: Path  # DAGSTER_HOME, holding deploy/dagster.yaml
    pg_url: str  # the storage database, for psycopg
    dagster_pg_url: str  # the same, as DAGSTER_PG_URL

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))


def dagster_pg_url(server_url: str, name: str) -> str:
    """DAGSTER_PG_URL for database `name` on the same server, written as people write it: a bare
    postgresql:// URL (pyproject keeps SQLAlchemy below 2.1, which maps it to psycopg2; 2.1 maps it
    to psycopg 3, with which dagster-postgres cannot store events)."""
    return urlunsplit(urlsplit(server_url)._replace(scheme="postgresql", path=f"/{name}"))


@pytest.fixture
def team_home(pg_admin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TeamHome]:
    name = f"dagster_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    url = dagster_pg_url(pg_admin_url, name)
    monkeypatch.setenv("DAGSTER_PG_URL", url)  # as the deployment's environment would
    yield TeamHome(home, _with_db(pg_admin_url, name), url)
    _drop_database(pg_admin_url, name)
