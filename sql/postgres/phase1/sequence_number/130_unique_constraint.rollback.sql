-- Rollback of 120-130: the constraint (which drops its index), then the index alone if a
-- half-finished rollout left only the index.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
-- squawk-ignore ban-drop-constraint -- a constraint this rollout added; the baseline does not have it
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_conversation_sequence_key;

DROP INDEX CONCURRENTLY IF EXISTS messages_conversation_sequence_key;
