"""Phase 1.1 of the plan on PostgreSQL: every step of every area, and how each is undone.

The Dagster assets (`assets/query_indexes.py`, `assets/sequence_number.py`,
`assets/conversation_counters.py`, `assets/content_tsv.py`) apply these lists with the
migration runner and the backfill engine; `rollback_phase1_postgres` applies ROLLBACK.
"""

from __future__ import annotations

from dataclasses import replace

from dbopt.postgres.backfill import Backfill
from dbopt.postgres.runner import ConcurrentIndex, Sql

P = "postgres/phase1"


def _sql(area: str, file: str, **kw) -> Sql:
    return Sql(f"{area}/{file}", f"{P}/{area}/{file}.sql", **kw)


def _index(area: str, file: str) -> ConcurrentIndex:
    return ConcurrentIndex(f"{area}/{file}", f"{P}/{area}/{file}.sql")


def _rollback(area: str, file: str, *, transactional: bool = True) -> Sql:
    return Sql(f"rollback/{area}/{file}", f"{P}/{area}/{file}.rollback.sql", rerun=True, transactional=transactional)


# --- composite indexes for the plan's queries -----------------------------------------------

QUERY_INDEXES = [
    _index("query_indexes", "010_messages_conversation_created_id"),
    _index("query_indexes", "020_posts_user_created_id"),
    _index("query_indexes", "030_message_attachments_message_id"),
]

# --- sequence_number --------------------------------------------------------------------------

SEQUENCE_TRIGGER = [
    _sql("sequence_number", "010_conversation_counter"),
    _sql("sequence_number", "020_messages_column"),
    _sql("sequence_number", "030_functions"),
    _sql("sequence_number", "035_retry_safe_functions"),
    _sql("sequence_number", "040_trigger"),
    _sql("sequence_number", "045_moves_and_truncate"),
]

SEQUENCE_INIT_COUNTERS = Backfill(
    name="sequence_number/init_counters",
    table="conversations",
    key=("id",),
    batch_path=f"{P}/sequence_number/050_init_counters.batch.sql",
    watch_tables=("conversations", "messages"),
    target_batch_ms=50,  # holds conversation row locks: keep batches short
    initial_batch=500,
)


def sequence_numbering(ts_literal: str) -> Backfill:
    """Pass 2 numbers each message and sets its content_tsv in the same UPDATE.

    Every message is rewritten once instead of twice (a second pass would leave a second
    dead version of every row and a second set of index entries: the table ended at 1.60x
    its compacted size, docs/postgres.md). So the content_tsv trigger and column go in
    before this pass, and the content_tsv backfill that follows only sweeps what it missed."""
    return Backfill(
        name="sequence_number/number_messages",
        table="messages",
        key=("conversation_id", "created_at", "id"),
        batch_path=f"{P}/sequence_number/060_number_messages.batch.sql",
        render={"ts_config": ts_literal},
        watch_tables=("messages",),
    )


SEQUENCE_NUMBERING = sequence_numbering("'simple'::regconfig")  # for its name and SQL file; run sequence_numbering()
SEQUENCE_COUNTER_DEFAULT = _sql("sequence_number", "070_counter_default")
# Conversations created before the default existed still hold NULL: pass 1 again.
SEQUENCE_SWEEP_COUNTERS = replace(SEQUENCE_INIT_COUNTERS, name="sequence_number/sweep_counters")
# Keyed by conversation like pass 2, so that a key range's sweep only ever sees
# conversations that range's pass 2 has numbered (ranges may run as separate partitions).
SEQUENCE_SWEEP_MESSAGES = Backfill(
    name="sequence_number/sweep_messages",
    table="messages",
    key=("conversation_id", "created_at", "id"),
    batch_path=f"{P}/sequence_number/080_sweep_messages.batch.sql",
    watch_tables=("messages",),
    initial_batch=5_000,
)
SEQUENCE_CONSTRAINTS = [
    _sql("sequence_number", "090_not_null_checks"),
    _sql("sequence_number", "100_validate", statement_timeout_s=6 * 3600),
    _sql("sequence_number", "110_set_not_null"),
    _index("sequence_number", "120_unique_index"),
    _sql("sequence_number", "130_unique_constraint"),
]

# --- conversation counters ------------------------------------------------------------------

COUNTER_TRIGGERS = [
    _sql("conversation_counters", "010_columns"),
    _sql("conversation_counters", "020_functions"),
    _sql("conversation_counters", "025_pinned_functions"),
    _sql("conversation_counters", "030_member_triggers"),
    _sql("conversation_counters", "040_last_message_trigger"),
    _sql("conversation_counters", "045_moves_and_truncate"),
]
COUNTERS_BACKFILL = Backfill(
    name="conversation_counters/backfill",
    table="conversations",
    key=("id",),
    batch_path=f"{P}/conversation_counters/050_backfill.batch.sql",
    watch_tables=("conversations", "conversation_members", "messages"),
    target_batch_ms=50,
    initial_batch=500,
)

# --- content_tsv ----------------------------------------------------------------------------


def content_tsv_trigger(ts_literal: str) -> list[Sql]:
    return [
        _sql("content_tsv", "010_column"),
        _sql("content_tsv", "020_function", render={"ts_config": ts_literal}),
        _sql("content_tsv", "025_pinned_function"),
        _sql("content_tsv", "030_trigger"),
    ]


def content_tsv_backfill(ts_literal: str) -> Backfill:
    return Backfill(
        name="content_tsv/backfill",
        table="messages",
        key=("id",),
        batch_path=f"{P}/content_tsv/040_backfill.batch.sql",
        render={"ts_config": ts_literal},
        watch_tables=("messages",),
    )


CONTENT_TSV_INDEX = [_index("content_tsv", "050_gin_index")]

# --- the end: dead space marked reusable and statistics for what the rollout changed ---------

# VACUUM cannot run in a transaction block: each statement of the file runs on its own,
# under lock_timeout (with the runner's retries) and this statement_timeout.
ANALYZE_CHANGED = Sql(
    "analyze/010_analyze", f"{P}/analyze/010_analyze.sql", rerun=True, statement_timeout_s=3600, transactional=False
)
# Then REINDEX INDEX CONCURRENTLY of the indexes the rewrite left >20% bigger than a compact
# build (the runner's reindex_bloated; the query is read only).
BLOATED_INDEXES = Sql("analyze/020_bloated_indexes", f"{P}/analyze/020_bloated_indexes.sql", rerun=True)
# The tables the rollout rewrites, whose cost (sizes, dead tuples, WAL) every backfill reports.
CHANGED_TABLES = ("messages", "conversations")

# --- everything, and its undoing --------------------------------------------------------------

BACKFILLS = (
    SEQUENCE_INIT_COUNTERS.name,
    SEQUENCE_NUMBERING.name,
    SEQUENCE_SWEEP_COUNTERS.name,
    SEQUENCE_SWEEP_MESSAGES.name,
    COUNTERS_BACKFILL.name,
    "content_tsv/backfill",
)

# Every step leaves a schema the application can write to, as on the way forward:
# 1. indexes and the unique constraint go first (concurrently), while every trigger still
#    keeps every column right; DROP INDEX CONCURRENTLY waits for old snapshots, harmlessly;
# 2. the counters' triggers and those for moves and TRUNCATE (columns only go stale, nothing fails);
# 3. each messages column goes in one transaction with the trigger that fills it, so no
#    insert ever meets a NOT NULL column whose trigger is gone;
# 4. conversations' columns, then the functions nothing calls any more.
ROLLBACK = [
    _rollback("content_tsv", "050_gin_index", transactional=False),
    _rollback("query_indexes", "030_message_attachments_message_id", transactional=False),
    _rollback("query_indexes", "020_posts_user_created_id", transactional=False),
    _rollback("query_indexes", "010_messages_conversation_created_id", transactional=False),
    _rollback("sequence_number", "130_unique_constraint", transactional=False),
    _rollback("conversation_counters", "045_moves_and_truncate"),
    _rollback("conversation_counters", "040_last_message_trigger"),
    _rollback("conversation_counters", "030_member_triggers"),
    _rollback("sequence_number", "045_moves_and_truncate"),
    _rollback("content_tsv", "010_column"),
    _rollback("sequence_number", "020_messages_column"),
    _rollback("sequence_number", "110_set_not_null"),
    _rollback("sequence_number", "010_conversation_counter"),
    _rollback("conversation_counters", "010_columns"),
    _rollback("content_tsv", "020_function"),
    _rollback("conversation_counters", "020_functions"),
    _rollback("sequence_number", "030_functions"),
]


def forward_step_names(ts_literal: str = "'simple'::regconfig") -> list[str]:
    steps = (
        QUERY_INDEXES + SEQUENCE_TRIGGER + [SEQUENCE_COUNTER_DEFAULT] + SEQUENCE_CONSTRAINTS + COUNTER_TRIGGERS
        + content_tsv_trigger(ts_literal) + CONTENT_TSV_INDEX
    )
    return [s.name for s in steps] + list(BACKFILLS)


def forward_steps(ts_literal: str = "'simple'::regconfig") -> list[tuple[str, Sql | ConcurrentIndex | Backfill]]:
    """Every step of phase1_postgres in the order the job applies it, with the asset that applies it.

    The job runs its assets in dependency order, independent ones by name (Dagster's in-process
    executor): content_tsv's trigger comes first, so the numbering pass sets content_tsv in the
    same rewrite of each message; content_tsv's backfill is then a sweep, and its GIN index is
    built last, after the rewrite, so the numbering's updates do not maintain it.
    postgres_plan predicts each step and replays them, in this order, on its sample; a test
    compares this order with the ledger of a real run."""
    return [
        *(("content_tsv_trigger", s) for s in content_tsv_trigger(ts_literal)),
        *(("query_indexes", s) for s in QUERY_INDEXES),
        *(("conversation_counters_triggers", s) for s in COUNTER_TRIGGERS),
        *(("sequence_number_trigger", s) for s in SEQUENCE_TRIGGER),
        ("conversation_counters_backfill", COUNTERS_BACKFILL),
        ("sequence_number_backfill", SEQUENCE_INIT_COUNTERS),
        ("sequence_number_backfill", SEQUENCE_NUMBERING),
        ("sequence_number_backfill", SEQUENCE_COUNTER_DEFAULT),
        ("sequence_number_backfill", SEQUENCE_SWEEP_COUNTERS),
        ("sequence_number_backfill", SEQUENCE_SWEEP_MESSAGES),
        ("content_tsv_backfill", content_tsv_backfill(ts_literal)),
        *(("sequence_number_constraints", s) for s in SEQUENCE_CONSTRAINTS),
        *(("content_tsv_index", s) for s in CONTENT_TSV_INDEX),
        ("phase1_postgres_contract", ANALYZE_CHANGED),
    ]
