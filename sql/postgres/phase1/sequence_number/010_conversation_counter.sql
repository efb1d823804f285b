-- Phase 1.1, sequence_number: the per-conversation counter the trigger numbers from.
-- NULL means "not initialized yet": the first insert into such a conversation (or the
-- backfill, whichever comes first) sets it to the number of messages already there.
-- Adding a nullable column is a catalog change only; the lock is held for milliseconds.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS last_sequence_number bigint;
