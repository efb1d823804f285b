-- Rollback of 010: drop the counter. Dropping a column is a catalog change: no row is rewritten.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
-- squawk-ignore ban-drop-column -- this rollout added the column; the application only reads it after Phase 1 ships
ALTER TABLE conversations DROP COLUMN IF EXISTS last_sequence_number;
