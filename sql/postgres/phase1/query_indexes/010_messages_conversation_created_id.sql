-- Phase 1.1, composite indexes: message history (2.1), cursor pagination of messages (3.2),
-- the conversation's last message, and the keyset walk of the sequence-number backfill
-- all read one conversation's messages in (created_at, id) order.
-- Built concurrently: writers are never blocked.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_messages_conversation_created_id
    ON messages (conversation_id, created_at, id);
