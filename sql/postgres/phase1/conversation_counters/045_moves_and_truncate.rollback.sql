-- Rollback of 045 (before the columns go).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout
DROP TRIGGER IF EXISTS update_last_message_on_move ON messages;

DROP TRIGGER IF EXISTS reset_last_message_on_truncate ON messages;

DROP TRIGGER IF EXISTS update_member_count_on_move ON conversation_members;

DROP TRIGGER IF EXISTS reset_member_count_on_truncate ON conversation_members;

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.update_last_message_on_move();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.update_member_count_on_move();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.reset_last_message_on_truncate();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.reset_member_count_on_truncate();
