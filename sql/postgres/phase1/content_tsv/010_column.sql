-- Phase 1.1, full-text search: the content_tsv column. The plan's generated column would
-- rewrite the whole table under an ACCESS EXCLUSIVE lock; a plain column kept by a
-- trigger and backfilled in batches does not.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE messages ADD COLUMN IF NOT EXISTS content_tsv tsvector;
