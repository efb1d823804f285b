"""A run lock held in ClickHouse itself, so two dbopt jobs never change one database at once.

Dagster's pools and tag limits only see runs of one instance, and not `dagster job
execute`; chDB's folder lock only covers one machine. So every ClickHouse step that
changes something first claims `dbopt_run_lock` (SQL in `sql/clickhouse/phase1/run_lock/`):

1. append a claim (claim id, run id, job, host, expiry on the server's clock);
2. read back the live claims, first committed first (`_block_number`, given in commit
   order); proceed only if the first is ours (or our run's), otherwise append a release
   and refuse in one sentence naming the run that holds it;
3. renew the expiry from a background thread while the step runs; release at the end.

A killed run stops renewing, so its claim lapses after `ttl` and blocks nobody. On a
cluster the table is Replicated: point CLICKHOUSE_URL at one replica (docs/clickhouse.md).
"""

from __future__ import annotations

import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from dbopt import sqlfiles
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl
from dbopt.errors import DboptError

DIR = "clickhouse/phase1/run_lock"
TABLE = "dbopt_run_lock"
RESOURCE = "clickhouse"
TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    claim_id: str
    run_id: str
    job: str
    host: str
    expires_at: datetime
    claimed_at: datetime


def holders(ch: ClickHouse, resource: str = RESOURCE) -> list[Claim]:
    """Live claims, the holder first (empty when the table does not exist yet)."""
    from dbopt.clickhouse import catalog

    if catalog.table(ch, TABLE) is None:
        return []
    return [Claim(*row) for row in ch.rows(sqlfiles.read(f"{DIR}/030_holders.sql"), {"resource": resource})]


class RunLock:
    """`with RunLock(ch, ddl, run_id=..., job=...):` holds the database for one step."""

    def __init__(self, ch: ClickHouse, ddl: Ddl, *, run_id: str, job: str, ttl: timedelta = TTL,
                 resource: str = RESOURCE, host: str | None = None, log=lambda _m: None) -> None:
        self.ch, self.ddl = ch, ddl
        self.run_id, self.job, self.ttl, self.resource = run_id, job, ttl, resource
        self.host = host or socket.gethostname()
        self.claim_id = uuid.uuid4().hex
        self.log = log
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _record(self, *, released: bool) -> None:
        self.ch.command(sqlfiles.read(f"{DIR}/020_record.sql"), {
            "resource": self.resource, "claim_id": self.claim_id, "run_id": self.run_id, "job": self.job,
            "host": self.host, "ttl_ms": int(self.ttl.total_seconds() * 1000), "released": int(released),
        })

    def acquire(self) -> None:
        self.ddl.run(self.ch, f"{DIR}/010_create_run_lock.sql")
        self._record(released=False)
        live = holders(self.ch, self.resource)
        first = live[0] if live else None
        if first is None or (first.claim_id != self.claim_id and first.run_id != self.run_id):
            self._record(released=True)
            if first is None:
                raise DboptError(
                    f"dbopt could not read back its own claim in {TABLE}; point CLICKHOUSE_URL at one server or "
                    f"replica (not a load balancer) and run again."
                )
            raise DboptError(
                f"Run {first.run_id} ({first.job} on {first.host}) holds dbopt's ClickHouse run lock (claimed "
                f"{first.claimed_at:%Y-%m-%d %H:%M:%S} UTC, expires {first.expires_at:%H:%M:%S} UTC unless renewed); "
                f"wait for that run to finish, or if it was killed for its lock to expire, then run again."
            )
        self._renewer = threading.Thread(target=self._renew, name=f"dbopt-run-lock-{self.claim_id[:8]}", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                self._record(released=False)
            except Exception as exc:  # the next renewal tries again; the expiry is the backstop
                self.log(f"renewing the ClickHouse run lock failed ({str(exc)[:200]}); retrying")

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=60)
            self._renewer = None
        self._record(released=True)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.release()
            return
        try:  # the step's own error is the one to show; an unreleased claim expires anyway
            self.release()
        except Exception as release_error:
            self.log(f"releasing the ClickHouse run lock failed ({str(release_error)[:200]}); it expires in "
                     f"{self.ttl.total_seconds():.0f}s")
