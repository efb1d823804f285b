-- Phase 1.1, the end: VACUUM (ANALYZE) of the tables the rollout rewrote.
-- VACUUM marks the space of the dead versions the backfills left reusable (autovacuum would,
-- later; the rollout's cost, docs/postgres.md, is measured after it), and ANALYZE gives the
-- planner statistics for the new columns (sequence_number, content_tsv, the conversation
-- counters): without them a full-text search chose a sequential scan of messages over the
-- GIN index. Not FULL: VACUUM takes SHARE UPDATE EXCLUSIVE, which blocks neither reads nor
-- writes. A long transaction elsewhere only makes it free less; it never waits for one.
-- Runs on every rollout run (online, and the statistics only get fresher). VACUUM cannot run
-- in a transaction block: the runner runs each statement on its own.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner applies each statement under lock_timeout (500 ms by default, with retries) and statement_timeout
VACUUM (ANALYZE) messages;

VACUUM (ANALYZE) conversations;
