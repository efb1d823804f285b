-- Rollback of 030.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
DROP TRIGGER IF EXISTS update_member_count_on_add ON conversation_members;

DROP TRIGGER IF EXISTS update_member_count_on_remove ON conversation_members;
