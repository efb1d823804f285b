"""`dbopt seed`: the baseline schemas plus realistic data in PostgreSQL and ClickHouse."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dbopt.clickhouse.client import ClickHouse
from dbopt.postgres.connect import PgConnector
from dbopt.seed.clock import SeedClock
from dbopt.seed.scales import Scale


@dataclass
class SeedReport:
    scale: Scale
    postgres: dict[str, int] = field(default_factory=dict)
    clickhouse: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def seed(
    pg: PgConnector | None,
    ch: ClickHouse | None,
    scale: Scale,
    *,
    reset: bool = False,
    progress: Callable[[str], None] = print,
) -> SeedReport:
    """Seed both databases at once: PostgreSQL works in its server while chDB works here."""
    from dbopt.seed.clickhouse import seed_clickhouse
    from dbopt.seed.postgres import seed_postgres

    clock = SeedClock.now(scale.months)
    report = SeedReport(scale)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            progress(line)

    errors: list[BaseException] = []
    started = time.monotonic()

    def run_pg() -> None:
        try:
            assert pg is not None
            report.postgres = seed_postgres(pg, scale, clock, reset_first=reset, progress=say)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=run_pg, name="seed-postgres") if pg is not None else None
    if worker:
        worker.start()
    try:
        if ch is not None:
            report.clickhouse = seed_clickhouse(ch, scale, clock, reset_first=reset, progress=say)
    finally:
        if worker:
            worker.join()
    if errors:
        raise errors[0]
    report.seconds = time.monotonic() - started
    return report
