-- Phase 1.1, conversation counters: denormalize what the plan's conversation fetch
-- computed with subqueries. member_count starts at 0 (a constant default is a catalog
-- change in PostgreSQL 11+, no rewrite); the last message is NULL until backfilled.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE conversations
    -- squawk-ignore prefer-bigint-over-int -- the contract's type (BASELINE.md: member_count int)
    ADD COLUMN IF NOT EXISTS member_count integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_message_id uuid,
    ADD COLUMN IF NOT EXISTS last_message_at timestamptz;
