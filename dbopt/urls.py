"""Where each database is: DATABASE_URL / CLICKHOUSE_URL / REDIS_URL, or dbopt's own servers.

The one resolver the Dagster resources, `dbopt` and `dbopt status` call: it checks the URL
before anything connects (a password with unencoded special characters is refused), gives
its redacted form for every message, and says whether dbopt started the server itself,
which decides whether a command may drop or generate data there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbopt.secrets import check_url, redact_url, scrub_for

if TYPE_CHECKING:
    from dbopt.embedded.postgres import EmbeddedPostgres
    from dbopt.embedded.redis import EmbeddedRedis

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REDIS_RETRIES = 2


@dataclass(frozen=True)
class Endpoint:
    """One database's URL (never print it: use `safe_url` or `where`)."""

    system: str  # PostgreSQL, ClickHouse, Redis
    variable: str  # the environment variable that configures it
    url: str | None = field(repr=False)  # None: dbopt's own server is not running (nor asked to start)
    embedded: bool  # dbopt started this server (or runs the engine in its own process)
    given: bool = True  # from the variable (or the caller), not dbopt's default

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    @property
    def where(self) -> str:
        if self.url is None:
            return "embedded (not running)"
        return f"{self.safe_url} ({self.variable})" if self.given else f"embedded, {self.safe_url}"

    def scrub(self, text: str) -> str:
        """`text` without any piece of this URL's password."""
        return scrub_for(text, self.url)


def _given(explicit: str | None, variable: str) -> str | None:
    url = explicit or os.environ.get(variable) or None
    if url:
        check_url(url, variable)
    return url


def _resolve(system: str, variable: str, explicit: str | None, server: EmbeddedPostgres | EmbeddedRedis,
             start: bool, address: Callable[[str], tuple[str | None, int] | None]) -> Endpoint:
    given = _given(explicit, variable)
    if given:
        return Endpoint(system, variable, given, _names_server(address(given), server))
    if start:
        return Endpoint(system, variable, server.ensure_running(), True, given=False)
    return Endpoint(system, variable, server.url() if server.is_running() else None, True, given=False)


def _names_server(address: tuple[str | None, int] | None, server: EmbeddedPostgres | EmbeddedRedis) -> bool:
    """The URL names the embedded server's port on this machine while that server runs."""
    if address is None:
        return False
    host, port = address
    own = server.port()
    return bool(own) and port == own and (host or "localhost") in LOOPBACK and server.running_pid() is not None


def postgres(url: str | None = None, *, start: bool = True) -> Endpoint:
    """DATABASE_URL (or `url`), else the embedded server (started unless `start=False`)."""
    from dbopt.embedded.postgres import EmbeddedPostgres

    return _resolve("PostgreSQL", "DATABASE_URL", url, EmbeddedPostgres.default(), start, _postgres_address)


def _postgres_address(url: str) -> tuple[str | None, int] | None:
    from psycopg import ProgrammingError, conninfo

    try:
        params = conninfo.conninfo_to_dict(url)
        return params.get("host"), int(str(params.get("port") or 5432).split(",")[0])
    except (ProgrammingError, ValueError):
        return None


def clickhouse(url: str | None = None) -> Endpoint:
    """CLICKHOUSE_URL (or `url`), else chDB in the data folder. chDB runs inside dbopt's own
    process, so a chdb:// folder counts as dbopt's; a server (http/https) never does."""
    given = _given(url, "CLICKHOUSE_URL")
    if given:
        from dbopt.clickhouse.client import parse_url

        parse_url(given)  # refuses what it does not understand, before anything connects
        return Endpoint("ClickHouse", "CLICKHOUSE_URL", given, given.strip().lower().startswith("chdb:"))
    from dbopt.paths import data_dir

    return Endpoint("ClickHouse", "CLICKHOUSE_URL", f"chdb://{data_dir() / 'clickhouse'}", True, given=False)


def redis(url: str | None = None, *, start: bool = True) -> Endpoint:
    """REDIS_URL (or `url`), else the embedded redis-server (started unless `start=False`)."""
    from dbopt.embedded.redis import EmbeddedRedis

    return _resolve("Redis", "REDIS_URL", url, EmbeddedRedis.default(), start, _redis_address)


def _redis_address(url: str) -> tuple[str | None, int] | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return parts.hostname, parts.port or 6379
    except ValueError:
        return None


def redis_client(endpoint: Endpoint, **kwargs: object) -> object:
    """A pinged redis-py client, or one sentence saying what is wrong (never the password).

    Retries are few and short: redis-py's default (10 retries with backoff) makes every call
    on a dead Redis take seconds, and the cache is on the path of each request."""
    import redis as redis_py
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.retry import Retry

    from dbopt.errors import ConnectionProblem, DboptError

    if endpoint.url is None:
        raise DboptError("The embedded Redis is not running; run `dbopt up` to start it.")
    kwargs.setdefault("retry", Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), REDIS_RETRIES))
    try:
        client = redis_py.Redis.from_url(endpoint.url, **kwargs)
        client.ping()
    except redis_py.exceptions.AuthenticationError:
        raise ConnectionProblem(
            f"Redis at {endpoint.safe_url} refused the credentials; fix the user or password in REDIS_URL."
        ) from None
    except (redis_py.exceptions.RedisError, ValueError) as exc:
        reason = endpoint.scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise ConnectionProblem(
            f"Cannot reach Redis at {endpoint.safe_url} ({reason[:160]}); check that it runs and that REDIS_URL is right."
        ) from None
    return client
