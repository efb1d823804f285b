"""The PostgreSQL remedies the drift alerts launch, built from Phase 1's own mechanisms.

- Conversation counters: Phase 1's counters backfill recounts under row locks and only
  writes what differs, so it repairs drift. Phase 1 ledgered it as applied (a rerun of
  phase1_postgres skips it), so the reconcile runs the same SQL under its own backfill
  name, with its checkpoints reset first: every reconcile recounts every conversation.
- Sequence numbers: a counter behind its conversation's highest number is set to that
  number under the conversation's row lock (the lock the trigger numbers under); then, if
  messages.sequence_number may still be NULL (no NOT NULL yet), Phase 1's sweep numbers
  unnumbered messages from the counter, like new messages. Numbers used twice are not
  touched: renumbering would change numbers clients have already seen; a person decides.
- INVALID indexes: applying a Phase 1 `ConcurrentIndex` step again drops an INVALID index
  concurrently and builds it again (the migration runner does this). Only dbopt's own
  indexes are rebuilt; any other INVALID index is reported and left to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import psycopg

from dbopt.errors import DboptError
from dbopt.postgres import ledger, phase1
from dbopt.postgres.backfill import Backfill, BackfillEngine, BackfillReport
from dbopt.postgres.runner import ConcurrentIndex, MigrationRunner, StepResult
from dbopt.postgres.sqlrun import query_file

DIR = "postgres/monitoring"

RECONCILE_COUNTERS = replace(phase1.COUNTERS_BACKFILL, name="conversation_counters/reconcile")
# Phase 1's counter initialization (same rows, locks and batch sizes), with a statement that only raises.
RECONCILE_SEQUENCE_COUNTERS = replace(
    phase1.SEQUENCE_INIT_COUNTERS,
    name="sequence_number/reconcile_counters",
    batch_path=f"{DIR}/reconcile/sequence_counters.batch.sql",
)
RECONCILE_SEQUENCE_SWEEP = replace(phase1.SEQUENCE_SWEEP_MESSAGES, name="sequence_number/reconcile_sweep")

# dbopt's own indexes, each with the step that builds it (and rebuilds it when INVALID).
INDEX_STEPS: list[ConcurrentIndex] = [
    *phase1.QUERY_INDEXES,
    *(s for s in phase1.SEQUENCE_CONSTRAINTS if isinstance(s, ConcurrentIndex)),
    *phase1.CONTENT_TSV_INDEX,
]


def index_steps() -> dict[str, ConcurrentIndex]:
    """dbopt's indexes by name."""
    return {step.target()[0]: step for step in INDEX_STEPS}


@dataclass(frozen=True)
class Phase1State:
    counters: bool  # the counters backfill is ledgered as applied and the columns exist
    sequence: bool  # the sequence numbering (and its sweep) is ledgered as applied
    sequence_not_null: bool


def phase1_state(conn: psycopg.Connection) -> Phase1State:
    columns = query_file(conn, f"{DIR}/phase1_state.sql")[0]
    installed = ledger.installed(conn)

    def applied(step: str) -> bool:
        return installed and ledger.latest_applied(conn, step) is not None

    return Phase1State(
        counters=bool(columns["counter_columns"]) and applied(phase1.COUNTERS_BACKFILL.name),
        sequence=bool(columns["sequence_column"]) and applied(phase1.SEQUENCE_SWEEP_MESSAGES.name),
        sequence_not_null=bool(columns["sequence_not_null"]),
    )


def recount(engine: BackfillEngine, spec: Backfill) -> BackfillReport:
    """Run a backfill over every row from the start, whatever an earlier run left."""
    engine.reset(spec.name)
    return engine.run(spec)


def _require(engine: BackfillEngine, part: str) -> Phase1State:
    """Phase 1's state, after checking that `part` ("counters" or "sequence") is in place."""
    with engine.connector.connection() as conn:
        state = phase1_state(conn)
    if not getattr(state, part):
        what = {"counters": "The conversation counters", "sequence": "Sequence numbers"}[part]
        raise DboptError(
            f"{what} are not in place here (Phase 1 has not applied them); run phase1_postgres instead of a reconcile."
        )
    return state


def reconcile_counters(engine: BackfillEngine) -> BackfillReport:
    _require(engine, "counters")
    return recount(engine, RECONCILE_COUNTERS)


def reconcile_sequences(engine: BackfillEngine) -> list[BackfillReport]:
    state = _require(engine, "sequence")
    reports = [recount(engine, RECONCILE_SEQUENCE_COUNTERS)]
    if not state.sequence_not_null:
        reports.append(recount(engine, RECONCILE_SEQUENCE_SWEEP))
    return reports


@dataclass
class IndexRebuild:
    rebuilt: list[StepResult] = field(default_factory=list)
    not_ours: list[str] = field(default_factory=list)  # INVALID indexes dbopt did not create


def invalid_indexes(conn: psycopg.Connection) -> list[dict]:
    """INVALID indexes on the application's tables, each marked rebuildable if it is dbopt's."""
    ours = index_steps()
    rows = query_file(conn, "postgres/checks/query_indexes/invalid.sql")
    return [{**r, "rebuildable": r["index_name"] in ours} for r in rows]


def rebuild_invalid_indexes(runner: MigrationRunner) -> IndexRebuild:
    with runner.connector.connection() as conn:
        invalid = invalid_indexes(conn)
    ours = index_steps()
    out = IndexRebuild(not_ours=[f"{r['table_name']}.{r['index_name']}" for r in invalid if not r["rebuildable"]])
    steps = [ours[r["index_name"]] for r in invalid if r["rebuildable"]]
    out.rebuilt = runner.apply(steps)
    return out
