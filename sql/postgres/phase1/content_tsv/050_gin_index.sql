-- Phase 1.1, full-text search: the GIN index that makes content_tsv @@ query fast,
-- built concurrently (writers are not blocked).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_messages_content_tsv
    ON messages USING gin (content_tsv);
