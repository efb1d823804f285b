-- Rollback of 040: new messages are no longer numbered.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
DROP TRIGGER IF EXISTS set_message_sequence ON messages;
