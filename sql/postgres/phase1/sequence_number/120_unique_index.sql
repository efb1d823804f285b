-- Phase 1.1, sequence_number: uniqueness per conversation, step 1 of 2: the unique index,
-- built concurrently (writers are not blocked). It also serves "message N of conversation C".
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS messages_conversation_sequence_key
    ON messages (conversation_id, sequence_number);
