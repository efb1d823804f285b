-- Phase 1.1, conversation counters: 020's functions again with search_path pinned and names
-- qualified (020 stays as it was applied, so that databases that ran it take this step
-- instead of being refused). They run with the caller's settings: an application whose
-- sessions use another search_path must still be able to write.
-- Retries are safe as they are: AFTER INSERT row triggers do not fire for a row that
-- ON CONFLICT DO NOTHING skipped.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE OR REPLACE FUNCTION dbopt.update_member_count_on_add()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations SET member_count = member_count + 1 WHERE id = NEW.conversation_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION dbopt.update_member_count_on_remove()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations SET member_count = member_count - 1 WHERE id = OLD.conversation_id;
    RETURN NULL;
END
$$;

-- The newest message by (created_at, id): the UPDATE re-checks its condition on the
-- row's latest version after waiting for the lock, so the greatest one always wins.
CREATE OR REPLACE FUNCTION dbopt.update_last_message_on_insert()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations
    SET last_message_id = NEW.id, last_message_at = NEW.created_at
    WHERE id = NEW.conversation_id
      AND (last_message_at IS NULL OR (NEW.created_at, NEW.id) > (last_message_at, last_message_id));
    RETURN NULL;
END
$$;
