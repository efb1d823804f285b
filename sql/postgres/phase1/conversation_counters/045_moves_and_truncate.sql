-- Phase 1.1, conversation counters: what the insert and delete triggers do not see.
-- - A message moved to another conversation (UPDATE ... SET conversation_id): the old
--   conversation's last message is looked up again if it was this one; the new one's is
--   set as for an insert. A member moved likewise counts -1 and +1. Both conversations are
--   locked in id order first, so two opposite moves cannot deadlock, and an insert into
--   either waits for the move (its trigger updates the same row).
-- - TRUNCATE messages: no conversation has a last message; TRUNCATE conversation_members:
--   every member_count is 0.
-- already-applied-if: SELECT count(*) = 4 FROM pg_trigger WHERE tgname IN ('update_last_message_on_move', 'reset_last_message_on_truncate', 'update_member_count_on_move', 'reset_member_count_on_truncate') AND tgrelid IN (to_regclass('messages'), to_regclass('conversation_members'))
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE OR REPLACE FUNCTION dbopt.update_last_message_on_move()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM public.conversations AS c
    WHERE c.id IN (OLD.conversation_id, NEW.conversation_id)
    ORDER BY c.id
    FOR NO KEY UPDATE;
    UPDATE public.conversations AS c
    SET (last_message_id, last_message_at) = (
        SELECT m.id, m.created_at FROM public.messages AS m
        WHERE m.conversation_id = c.id
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT 1
    )
    WHERE c.id = OLD.conversation_id AND c.last_message_id = OLD.id;
    UPDATE public.conversations
    SET last_message_id = NEW.id, last_message_at = NEW.created_at
    WHERE id = NEW.conversation_id
      AND (last_message_at IS NULL OR (NEW.created_at, NEW.id) > (last_message_at, last_message_id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION dbopt.update_member_count_on_move()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM public.conversations AS c
    WHERE c.id IN (OLD.conversation_id, NEW.conversation_id)
    ORDER BY c.id
    FOR NO KEY UPDATE;
    UPDATE public.conversations SET member_count = member_count - 1 WHERE id = OLD.conversation_id;
    UPDATE public.conversations SET member_count = member_count + 1 WHERE id = NEW.conversation_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION dbopt.reset_last_message_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations SET last_message_id = NULL, last_message_at = NULL WHERE last_message_id IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION dbopt.reset_member_count_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations SET member_count = 0 WHERE member_count <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER update_last_message_on_move
    AFTER UPDATE OF conversation_id ON messages
    FOR EACH ROW WHEN (new.conversation_id IS DISTINCT FROM old.conversation_id)
    EXECUTE FUNCTION dbopt.update_last_message_on_move();

CREATE TRIGGER reset_last_message_on_truncate
    AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION dbopt.reset_last_message_on_truncate();

CREATE TRIGGER update_member_count_on_move
    AFTER UPDATE OF conversation_id ON conversation_members
    FOR EACH ROW WHEN (new.conversation_id IS DISTINCT FROM old.conversation_id)
    EXECUTE FUNCTION dbopt.update_member_count_on_move();

CREATE TRIGGER reset_member_count_on_truncate
    AFTER TRUNCATE ON conversation_members
    FOR EACH STATEMENT EXECUTE FUNCTION dbopt.reset_member_count_on_truncate();
