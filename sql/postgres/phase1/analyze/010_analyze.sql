-- Phase 1.1, the end: VACUUM (ANALYZE) of the tables the rollout rewrote.
-- VACUUM marks the space of the dead versions the backfills left reusable (autovacuum would,
-- later; the rollout's cost, docs/postgres.md, is measured after it), and ANALYZE gives the
-- planner statistics for the new columns (sequence_number, content_tsv, the conversation
-- counters): without them a full-text search chose a sequential scan of messages over the
-- GIN index. Not FULL: VACUUM takes SHARE UPDATE EXCLUSIVE, which blocks neither reads nor
-- writes. A long transaction elsewhere only makes it free less; it never waits for one.
-- Runs on every rollout run that follows a change: a step applied or a backfill range written
-- since its last run (the guard below reads dbopt's ledger and checkpoints). A rerun with
-- nothing to do skips it; the application's own writes are autovacuum's, as before the
-- rollout. VACUUM cannot run in a transaction block: the runner runs each statement on its own.
-- already-applied-if: SELECT coalesce((SELECT max(finished_at) FROM dbopt.migration_ledger WHERE step = 'analyze/010_analyze' AND outcome = 'applied' AND detail IS DISTINCT FROM 'already in place') > greatest((SELECT max(finished_at) FROM dbopt.migration_ledger WHERE step NOT LIKE 'analyze/%' AND outcome = 'applied'), (SELECT max(updated_at) FROM dbopt.backfill_progress)), false)
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner applies each statement under lock_timeout (500 ms by default, with retries) and statement_timeout
VACUUM (ANALYZE) messages;

VACUUM (ANALYZE) conversations;
