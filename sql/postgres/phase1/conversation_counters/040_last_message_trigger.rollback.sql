-- Rollback of 040.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
DROP TRIGGER IF EXISTS update_last_message_on_insert ON messages;
