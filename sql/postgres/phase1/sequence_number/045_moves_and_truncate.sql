-- Phase 1.1, sequence_number: what the insert trigger does not see.
-- - A message moved to another conversation (UPDATE ... SET conversation_id) takes the next
--   number of its new conversation, as a new message would, so numbers stay unique there;
--   its old conversation's counter comes down to that conversation's new maximum when the
--   moved message held it (last_sequence_number = max(sequence_number), as the contract says;
--   a number from the middle leaves a gap, like a deleted message). Both conversations are
--   locked in id order first, so two opposite moves cannot deadlock.
-- - TRUNCATE messages: every counter goes back to 0.
-- already-applied-if: SELECT count(*) = 3 FROM pg_trigger WHERE tgname IN ('set_message_sequence_on_move', 'release_message_sequence_on_move', 'reset_message_sequence_on_truncate') AND tgrelid = to_regclass('messages')
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE OR REPLACE FUNCTION dbopt.set_message_sequence_on_move()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM 1 FROM public.conversations AS c
    WHERE c.id IN (OLD.conversation_id, NEW.conversation_id)
    ORDER BY c.id
    FOR NO KEY UPDATE;
    NEW.sequence_number := dbopt.next_message_sequence(NEW.conversation_id);
    RETURN NEW;
END
$$;

-- After the statement's rows have moved (AFTER ROW triggers fire at its end), so that the
-- maximum is that of the messages left behind, however many moved at once.
CREATE OR REPLACE FUNCTION dbopt.release_message_sequence_on_move()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations AS c
    SET last_sequence_number = coalesce(
        (SELECT max(m.sequence_number) FROM public.messages AS m WHERE m.conversation_id = OLD.conversation_id), 0
    )
    WHERE c.id = OLD.conversation_id AND c.last_sequence_number = OLD.sequence_number;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION dbopt.reset_message_sequence_on_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.conversations SET last_sequence_number = 0 WHERE last_sequence_number <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER set_message_sequence_on_move
    BEFORE UPDATE OF conversation_id ON messages
    FOR EACH ROW WHEN (new.conversation_id IS DISTINCT FROM old.conversation_id)
    EXECUTE FUNCTION dbopt.set_message_sequence_on_move();

CREATE TRIGGER release_message_sequence_on_move
    AFTER UPDATE OF conversation_id ON messages
    FOR EACH ROW WHEN (new.conversation_id IS DISTINCT FROM old.conversation_id)
    EXECUTE FUNCTION dbopt.release_message_sequence_on_move();

CREATE TRIGGER reset_message_sequence_on_truncate
    AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION dbopt.reset_message_sequence_on_truncate();
