-- Rollback of 020: drop the index without blocking writers.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner sets lock_timeout and statement_timeout before the build, and CONCURRENTLY never blocks writers
DROP INDEX CONCURRENTLY IF EXISTS idx_posts_user_created_id;
