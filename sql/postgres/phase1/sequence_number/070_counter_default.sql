-- Phase 1.1, sequence_number: conversations created from now on start at 0.
-- Setting a default is a catalog change only.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE conversations ALTER COLUMN last_sequence_number SET DEFAULT 0;
