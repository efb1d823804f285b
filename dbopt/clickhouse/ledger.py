"""`dbopt_ledger`: what dbopt did to a ClickHouse database, so anyone can ask where it stands.

Each step writes a row when it starts ('running') and one when it ends ('succeeded',
'failed' with the error sentence, or 'rolled_back' when the rollback undid it). The
latest row of a step is its state; `read_status` is what `dbopt status` shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse import catalog
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl

DIR = "clickhouse/phase1/ledger"
TABLE = "dbopt_ledger"

# The steps of Phase 1.2 in the order they run; the rollback marks them 'rolled_back'.
PHASE1_STEPS = (
    "clickhouse.cdc_partitioning",
    "clickhouse.post_metrics_1h",
    "clickhouse.user_author_90d",
    "clickhouse.feed_candidates",
)


def steps_checksum(*relatives: str) -> str:
    """A fingerprint of the SQL files a step runs, recorded with each run."""
    return sqlfiles.checksum("\n".join(sqlfiles.read(r) for r in relatives))


class Ledger:
    def __init__(self, ch: ClickHouse, ddl: Ddl | None = None, run_id: str = "") -> None:
        self.ch = ch
        self.ddl = ddl or Ddl()
        self.run_id = run_id
        self._ready = False

    def ensure(self) -> None:
        if not self._ready:
            self.ddl.run(self.ch, f"{DIR}/010_create_ledger.sql")
            self._ready = True

    def record(
        self,
        step: str,
        outcome: str,
        *,
        started_at: datetime,
        finished_at: datetime | None = None,
        checksum: str = "",
        detail: Any = "",
    ) -> None:
        self.ensure()
        text = detail if isinstance(detail, str) else json.dumps(detail, default=str, sort_keys=True)
        self.ch.command(
            sqlfiles.read(f"{DIR}/020_record.sql"),
            {
                "step": step,
                "checksum": checksum,
                "run_id": self.run_id,
                "started_at": started_at,
                "finished_at": finished_at,
                "outcome": outcome,
                "detail": text,
            },
        )

    @contextmanager
    def step(self, step: str, checksum: str = "") -> Iterator[dict[str, Any]]:
        """Record a step around a block; the block fills the yielded dict with its summary."""
        started = datetime.now(UTC)
        self.record(step, "running", started_at=started, checksum=checksum)
        summary: dict[str, Any] = {}
        try:
            yield summary
        except Exception as exc:
            self.record(step, "failed", started_at=started, finished_at=datetime.now(UTC), checksum=checksum,
                        detail=str(exc)[:2000])
            raise
        self.record(step, "succeeded", started_at=started, finished_at=datetime.now(UTC), checksum=checksum,
                    detail=summary)

    def mark(self, steps: tuple[str, ...] | list[str], outcome: str, detail: Any = "") -> None:
        """Record an outcome for steps without running them (the rollback's 'rolled_back')."""
        now = datetime.now(UTC)
        for step in steps:
            self.record(step, outcome, started_at=now, finished_at=now, detail=detail)


def read_status(ch: ClickHouse) -> list[dict[str, Any]]:
    """Each step's latest state: dicts with step, state, finished_at, detail (plus run_id, checksum).

    An empty list when dbopt never ran against this database.
    """
    if catalog.table(ch, TABLE) is None:
        return []
    return ch.dicts(sqlfiles.read(f"{DIR}/030_status.sql"))
