-- Rollback of 020 (and of the NOT NULL and unique constraint that went with the column).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
-- squawk-ignore ban-drop-column -- this rollout added the column; the application only reads it after Phase 1 ships
ALTER TABLE messages DROP COLUMN IF EXISTS sequence_number;
