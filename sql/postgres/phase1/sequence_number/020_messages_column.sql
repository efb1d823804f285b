-- Phase 1.1, sequence_number: the column itself, nullable until the backfill is done.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE messages ADD COLUMN IF NOT EXISTS sequence_number bigint;
