"""Drift after the rollout, found by sampling: so that corruption is noticed, cheaply.

Three questions, each in one statement (one snapshot, exact while writers are busy):
- conversation counters: member_count and last_message_* equal a recount, for a random
  sample of conversations plus the largest ones (Phase 1's own check query, with a sample);
- sequence numbers: no counter behind its highest number, no message without a number, no
  number used twice, for a sample of the same kind;
- INVALID indexes on the application's tables (a catalog query, not sampled).

Counters and sequence numbers are sampled only once Phase 1 has put them in place (its
backfill is ledgered as applied): during the rollout a difference is work still to do,
not drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbopt.monitoring.reconcile import Phase1State, invalid_indexes, phase1_state
from dbopt.postgres.sqlrun import query_file

DIR = "postgres/monitoring"
COUNTERS_SQL = "postgres/checks/conversation_counters/mismatch.sql"
SEQUENCE_SQL = f"{DIR}/sequence_anomalies.sql"


@dataclass
class DriftReport:
    sample: int
    state: Phase1State
    counters: list[dict[str, Any]] = field(default_factory=list)  # conversations whose counters differ
    sequence: list[dict[str, Any]] = field(default_factory=list)  # conversations with a sequence anomaly
    invalid_indexes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counter_counts(self) -> dict[str, int]:
        return {"conversations_with_wrong_counters": len(self.counters)}

    @property
    def sequence_counts(self) -> dict[str, int]:
        return {
            "counters_behind": sum(1 for r in self.sequence if r["highest"] is not None
                                   and (r["last_sequence_number"] is None or r["last_sequence_number"] < r["highest"])),
            "unnumbered_messages": sum(int(r["unnumbered"]) for r in self.sequence),
            "numbers_used_twice": sum(int(r["used_twice"]) for r in self.sequence),
        }


def measure(conn: psycopg.Connection, sample: int) -> DriftReport:
    state = phase1_state(conn)
    report = DriftReport(sample=sample, state=state)
    render = {"sample": str(int(sample))}
    if state.counters:
        report.counters = query_file(conn, COUNTERS_SQL, render=render)
    if state.sequence:
        report.sequence = query_file(conn, SEQUENCE_SQL, render=render)
    report.invalid_indexes = invalid_indexes(conn)
    return report
