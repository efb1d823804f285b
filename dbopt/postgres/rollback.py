"""Return PostgreSQL to the baseline schema after (part of) Phase 1.1, keeping every row.

Online like the rollout, and every step leaves a schema the application can write to:
indexes go first (concurrently, while the triggers still keep every column right), then
the counters' triggers, then each messages column in one transaction with the trigger that
fills it, then conversations' columns and the functions; DDL runs under the runner's
lock_timeout (dropping a column is a catalog change, no rewrite). Every statement is
IF EXISTS, so it works from any point of a half-finished rollout and twice in a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbopt.postgres import fingerprint, ledger
from dbopt.postgres.connect import PgConnector
from dbopt.postgres.phase1 import BACKFILLS, ROLLBACK, forward_step_names
from dbopt.postgres.runner import MigrationRunner, StepResult


@dataclass
class RollbackReport:
    dry_run: bool
    would_remove: list[str] = field(default_factory=list)
    dbopt_functions: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    remaining_differences: list[str] = field(default_factory=list)
    baseline_recorded: bool = True

    @property
    def matches_baseline(self) -> bool:
        return self.baseline_recorded and not self.remaining_differences and not self.dbopt_functions


def pending_changes(connector: PgConnector) -> tuple[list[str], list[str], bool]:
    """What differs from the recorded baseline, and which dbopt functions exist."""
    with connector.connection() as conn:
        if not ledger.installed(conn):
            return [], [], False
        base = fingerprint.recorded(conn)
        now = fingerprint.catalog(conn)
        functions = [
            r[0]
            for r in conn.execute(
                "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'dbopt'::regnamespace "
                "ORDER BY 1"
            ).fetchall()
        ]
    if base is None:
        return [], functions, False
    return fingerprint.differences(base[1], now), functions, True


def rollback_phase1(runner: MigrationRunner, *, dry_run: bool) -> RollbackReport:
    connector = runner.connector
    diffs, functions, recorded = pending_changes(connector)
    report = RollbackReport(dry_run=dry_run, would_remove=diffs, dbopt_functions=functions, baseline_recorded=recorded)
    if dry_run:
        return report
    report.steps = runner.apply(ROLLBACK)
    with connector.connection() as conn:
        if ledger.installed(conn):
            for name in forward_step_names():
                if ledger.latest_applied(conn, name) is not None:
                    ledger.record(conn, name, "-", runner.run_id, "rolled_back", "undone by rollback_phase1_postgres")
            conn.execute("DELETE FROM dbopt.backfill_progress WHERE backfill = ANY(%s)", (list(BACKFILLS),))
    report.remaining_differences, report.dbopt_functions, report.baseline_recorded = pending_changes(connector)
    return report
