-- Phase 1.1, composite indexes: cursor pagination of a user's posts (3.1) reads live posts
-- (soft_delete IS NULL) newest first by (created_at, id); the partial index holds only them.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_user_created_id
    ON posts (user_id, created_at DESC, id DESC)
    WHERE soft_delete IS NULL;
