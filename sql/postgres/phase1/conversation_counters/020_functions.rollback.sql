-- Rollback of 020 (after the triggers that use them are gone).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is already gone
DROP FUNCTION IF EXISTS dbopt.update_member_count_on_add();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is already gone
DROP FUNCTION IF EXISTS dbopt.update_member_count_on_remove();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is already gone
DROP FUNCTION IF EXISTS dbopt.update_last_message_on_insert();
