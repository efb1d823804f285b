-- Phase 1.1, composite indexes: the history query (2.1) joins attachments by message_id,
-- which the baseline does not index (reactions are covered by their primary key).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_message_attachments_message_id
    ON message_attachments (message_id);
