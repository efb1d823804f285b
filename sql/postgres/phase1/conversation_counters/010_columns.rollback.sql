-- Rollback of 010: drop the denormalized columns (a catalog change; no row is rewritten).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
-- This rollout added these columns; the application only reads them after Phase 1 ships.
ALTER TABLE conversations
    -- squawk-ignore ban-drop-column -- added by this rollout (see above)
    DROP COLUMN IF EXISTS member_count,
    -- squawk-ignore ban-drop-column -- added by this rollout (see above)
    DROP COLUMN IF EXISTS last_message_id,
    -- squawk-ignore ban-drop-column -- added by this rollout (see above)
    DROP COLUMN IF EXISTS last_message_at;
