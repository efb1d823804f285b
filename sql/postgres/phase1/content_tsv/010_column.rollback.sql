-- Rollback of 010 and 030: the trigger and the column it fills go in one transaction (its
-- GIN index went first, concurrently), so no insert runs the trigger without the column.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout
DROP TRIGGER IF EXISTS messages_content_tsv ON messages;

-- squawk-ignore ban-drop-column -- this rollout added the column; the application only reads it after Phase 1 ships
ALTER TABLE messages DROP COLUMN IF EXISTS content_tsv;
