"""One ClickHouse interface, two backends: a server over HTTP, or chDB in the data folder.

Both send the same SQL text and bind `{name:Type}` parameters with clickhouse-connect's
own formatter, and both read results as JSONCompact, so a statement behaves the same
on a production server and on the embedded engine the tests use.

chDB allows one process per data folder and one folder per process. It is opened on
first use inside a step (never when definitions load), retried briefly while another
process holds the folder, and closed at the end of the step.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dbopt.errors import ConnectionProblem, DboptError
from dbopt.secrets import check_url, redact_url, scrub, scrub_for
from dbopt.sqlfiles import split

JSON_SETTINGS = {
    "output_format_json_quote_64bit_integers": 0,
    "output_format_json_quote_decimals": 0,
    "output_format_json_quote_denormals": 1,
}


@dataclass(frozen=True)
class Target:
    """Where ClickHouse is: parsed from CLICKHOUSE_URL (or the embedded default)."""

    backend: str  # "http" or "chdb"
    database: str
    url: str = field(repr=False)  # holds the password: show safe_url
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    secure: bool = False

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)


def parse_url(url: str | None, *, default_path: Path | None = None, database: str | None = None) -> Target:
    """Read CLICKHOUSE_URL; unset means chDB in the data folder."""
    if not url:
        if default_path is None:
            from dbopt.paths import data_dir

            default_path = data_dir() / "clickhouse"
        return Target("chdb", database or "default", f"chdb://{default_path}", path=default_path)
    check_url(url, "CLICKHOUSE_URL")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https", "chdb"):
        raise DboptError(
            f"CLICKHOUSE_URL {redact_url(url)!r} is not understood; use http://user:pass@host:8123/db, "
            "https://..., or chdb:///absolute/path (or leave it unset for the embedded engine)."
        )
    query = parse_qs(parts.query)
    if parts.scheme == "chdb":
        raw = unquote((parts.netloc or "") + parts.path)
        if not raw.startswith("/"):
            raise DboptError(
                f"CLICKHOUSE_URL {redact_url(url)!r} needs an absolute path; write chdb:///absolute/path (three slashes)."
            )
        db = database or query.get("database", ["default"])[0]
        return Target("chdb", db, url, path=Path(raw))
    db = database or (parts.path.strip("/") or query.get("database", ["default"])[0])
    try:
        port = parts.port
    except ValueError:
        raise DboptError(f"CLICKHOUSE_URL {redact_url(url)!r} has an invalid port; fix the URL.") from None
    return Target(
        "http",
        db,
        url,
        host=parts.hostname or "localhost",
        port=port or (8443 if parts.scheme == "https" else 8123),
        username=unquote(parts.username) if parts.username else "default",
        password=unquote(parts.password) if parts.password else "",
        secure=parts.scheme == "https",
    )


class ClickHouseError(DboptError):
    """A statement failed; the message carries ClickHouse's own reason."""


class ClickHouse(ABC):
    """What every step uses: `command`, `rows`, `dicts`, `scalar`, `script`."""

    target: Target

    @property
    def database(self) -> str:
        return self.target.database

    @property
    def backend(self) -> str:
        return self.target.backend

    @abstractmethod
    def _json(self, sql: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None: ...

    @abstractmethod
    def close(self) -> None: ...

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT ... SELECT)."""
        self._json(sql, params)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
        """Column names and rows, values decoded by their ClickHouse types."""
        doc = self._json(sql, params)
        if not doc:
            return [], []
        meta = doc.get("meta", [])
        names = [m["name"] for m in meta]
        decoders = [_decoder(m["type"]) for m in meta]
        rows = [[dec(v) for dec, v in zip(decoders, row, strict=True)] for row in doc.get("data", [])]
        return names, rows

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.query(sql, params)[1]]

    def dicts(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        names, rows = self.query(sql, params)
        return [dict(zip(names, r, strict=True)) for r in rows]

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.query(sql, params)[1]
        return rows[0][0] if rows else None

    def script(self, text: str, params: Mapping[str, Any] | None = None) -> int:
        """Run every statement of a script in order; returns how many ran."""
        statements = split(text, backslash_escapes=True)
        for stmt in statements:
            self.command(stmt, params)
        return len(statements)

    def __enter__(self) -> ClickHouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _bind(sql: str, params: Mapping[str, Any] | None) -> tuple[str, dict[str, str]]:
    """clickhouse-connect's own server-side binding, shared by both backends."""
    from clickhouse_connect.driver.binding import bind_query

    query, bound = bind_query(sql, dict(params or {}), UTC)
    if isinstance(query, bytes):  # binary binds are not used here
        query = query.decode()
    return query, {k.removeprefix("param_"): v for k, v in bound.items()}


def _decoder(ch_type: str):
    base = ch_type
    for wrapper in ("Nullable(", "LowCardinality("):
        while base.startswith(wrapper):
            base = base[len(wrapper) : -1]
    if base.startswith("DateTime"):
        return _parse_datetime
    return lambda v: v


def _parse_datetime(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in value else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(value, fmt).replace(tzinfo=UTC)


# --- chDB ---------------------------------------------------------------------------------

_CHDB_LOCK = threading.RLock()
_LOCK_MARKERS = ("Cannot lock file", "Error initializing EmbeddedServer", "already running")


class ChdbClient(ClickHouse):
    """chDB in a folder; one session per process, opened lazily, queries serialized."""

    def __init__(self, target: Target, *, lock_wait_s: float = 15.0) -> None:
        self.target = target
        self._lock_wait_s = lock_wait_s
        self._session: Any = None

    def _open(self) -> Any:
        if self._session is not None:
            return self._session
        from dbopt.embedded import require

        chdb_session = require("chdb.session")

        assert self.target.path is not None
        self.target.path.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self._lock_wait_s
        delay = 0.2
        while True:
            try:
                sess = chdb_session.Session(str(self.target.path))
                break
            except Exception as exc:  # chDB raises RuntimeError subclasses
                text = str(exc)
                if "cannot connect with different path" in text:
                    raise DboptError(
                        f"This process already uses another chDB folder, and chDB allows one folder per "
                        f"process; run work on {self.target.path} in a separate process."
                    ) from None
                if any(m in text for m in _LOCK_MARKERS) and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                if any(m in text for m in _LOCK_MARKERS):
                    raise ConnectionProblem(
                        f"The chDB folder {self.target.path} is in use by another process (a Dagster run or a "
                        f"dbopt command); wait for it to finish or stop it, then run again."
                    ) from None
                raise ConnectionProblem(
                    f"chDB could not open {self.target.path} ({scrub(text)[:200]}); check the folder and "
                    f"CLICKHOUSE_URL."
                ) from None
        for key, value in JSON_SETTINGS.items():
            sess.query(f"SET {key} = {value}")
        if self.target.database != "default":
            sess.query(f"CREATE DATABASE IF NOT EXISTS `{self.target.database}` ENGINE = Atomic")
        sess.query(f"USE `{self.target.database}`")
        self._session = sess
        return sess

    def _json(self, sql: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        query, bound = _bind(sql, params)
        with _CHDB_LOCK:
            sess = self._open()
            try:
                res = sess.query(query, "JSONCompact", params=bound) if bound else sess.query(query, "JSONCompact")
            except Exception as exc:
                raise ClickHouseError(_clean_error(str(exc), query)) from None
        raw = res.bytes() if res is not None else b""
        if not raw.strip():
            return None
        return json.loads(raw)

    def close(self) -> None:
        with _CHDB_LOCK:
            if self._session is not None:
                try:
                    self._session.close()
                finally:
                    self._session = None


# --- ClickHouse server over HTTP -----------------------------------------------------------


class HttpClient(ClickHouse):
    """A ClickHouse server through clickhouse-connect; the same SQL as chDB, nothing more."""

    def __init__(self, target: Target, *, connect_timeout: float = 10, query_timeout: float = 3600) -> None:
        self.target = target
        self._connect_timeout = connect_timeout
        self._query_timeout = query_timeout
        self._client: Any = None

    def _open(self) -> Any:
        if self._client is not None:
            return self._client
        import clickhouse_connect

        try:
            self._client = clickhouse_connect.get_client(
                host=self.target.host,
                port=self.target.port,
                username=self.target.username,
                password=self.target.password or "",
                database=self.target.database,
                secure=self.target.secure,
                connect_timeout=self._connect_timeout,
                send_receive_timeout=self._query_timeout,
                autogenerate_session_id=False,
            )
        except Exception as exc:
            reason = scrub_for(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, self.target.url)
            if "authentication failed" in reason.lower():
                raise ConnectionProblem(
                    f"ClickHouse at {self.target.safe_url} refused the credentials; fix the user or password in "
                    f"CLICKHOUSE_URL."
                ) from None
            raise ConnectionProblem(
                f"Cannot reach ClickHouse at {self.target.safe_url} ({reason[:160]}); check that the server "
                f"runs and that CLICKHOUSE_URL is right."
            ) from None
        return self._client

    def _json(self, sql: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        client = self._open()
        query, bound = _bind(sql, params)
        settings = dict(JSON_SETTINGS)
        settings.update({f"param_{k}": v for k, v in bound.items()})
        try:
            raw = client.raw_query(query, settings=settings, fmt="JSONCompact")
        except Exception as exc:
            raise ClickHouseError(_clean_error(scrub_for(str(exc), self.target.url), query)) from None
        if not raw or not raw.strip():
            return None
        return json.loads(raw)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None


def _clean_error(text: str, query: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), text)
    snippet = " ".join(query.split())[:120]
    return f"ClickHouse rejected a statement: {first[:400]} [statement: {snippet}]"


def connect(url: str | None = None, *, database: str | None = None, default_path: Path | None = None) -> ClickHouse:
    """A client for CLICKHOUSE_URL (or the given URL); nothing is opened until first use."""
    if url is None and default_path is None:
        from dbopt import urls

        url = urls.clickhouse().url
    target = parse_url(url, default_path=default_path, database=database)
    return ChdbClient(target) if target.backend == "chdb" else HttpClient(target)


def quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"
