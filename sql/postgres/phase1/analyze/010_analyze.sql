-- Phase 1.1, the end: statistics for what the rollout changed. The new columns
-- (sequence_number, content_tsv, the conversation counters) were filled by backfills, and
-- until autovacuum gets round to it the planner has no statistics for them: a full-text
-- search chose a sequential scan of messages over the GIN index. ANALYZE reads a sample
-- under a SHARE UPDATE EXCLUSIVE lock, which blocks neither reads nor writes. Runs on every
-- rollout run (cheap, and the statistics only get fresher).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner applies this file under lock_timeout (500 ms by default, with retries) and statement_timeout
ANALYZE messages;

ANALYZE conversations;
