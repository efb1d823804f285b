-- Phase 1.1, sequence_number: 030's functions again, as they must be (030 stays as it was
-- applied, so that databases that ran it take this step instead of being refused).
--
-- A retried send: `INSERT ... ON CONFLICT (id) DO NOTHING` of a message that already exists
-- still runs the BEFORE trigger, and 030 took a number for a row that is then discarded
-- (a gap, and last_sequence_number > max). Now the trigger locks the conversation's row
-- first and only then looks for NEW.id: a concurrent insert of the same id into the same
-- conversation holds that lock until it commits or rolls back, and in READ COMMITTED the
-- lookup runs with a fresh snapshot, so it sees that row once it is committed. A row sent
-- earlier in the same multi-row statement is visible to it too. A retry keeps the existing
-- row's number (so ON CONFLICT DO UPDATE keeps it as well) and leaves the counter alone.
--
-- search_path is pinned and names are qualified: the functions run with the caller's
-- settings, and an application whose sessions use another search_path must still insert.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE OR REPLACE FUNCTION dbopt.next_message_sequence(p_conversation_id uuid)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    current_max bigint;
BEGIN
    SELECT c.last_sequence_number INTO current_max
    FROM public.conversations AS c
    WHERE c.id = p_conversation_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;  -- no such conversation: the message's foreign key rejects the insert
    END IF;
    IF current_max IS NULL THEN
        SELECT count(*) INTO current_max FROM public.messages AS m WHERE m.conversation_id = p_conversation_id;
    END IF;
    UPDATE public.conversations SET last_sequence_number = current_max + 1 WHERE id = p_conversation_id;
    RETURN current_max + 1;
END
$$;

CREATE OR REPLACE FUNCTION dbopt.set_message_sequence()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    existing bigint;
BEGIN
    PERFORM 1 FROM public.conversations AS c WHERE c.id = NEW.conversation_id FOR NO KEY UPDATE;
    SELECT m.sequence_number INTO existing FROM public.messages AS m WHERE m.id = NEW.id;
    IF FOUND THEN
        NEW.sequence_number := existing;  -- a retry: ON CONFLICT discards this row, the counter stays
    ELSE
        NEW.sequence_number := dbopt.next_message_sequence(NEW.conversation_id);
    END IF;
    RETURN NEW;
END
$$;
