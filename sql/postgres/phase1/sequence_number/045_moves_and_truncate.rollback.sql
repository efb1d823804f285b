-- Rollback of 045 (before the column goes: moved messages are then simply not renumbered).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout
DROP TRIGGER IF EXISTS set_message_sequence_on_move ON messages;

DROP TRIGGER IF EXISTS release_message_sequence_on_move ON messages;

DROP TRIGGER IF EXISTS reset_message_sequence_on_truncate ON messages;

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.set_message_sequence_on_move();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.release_message_sequence_on_move();

-- squawk-ignore ban-drop-function -- dbopt's own trigger function; its trigger is gone (above)
DROP FUNCTION IF EXISTS dbopt.reset_message_sequence_on_truncate();
