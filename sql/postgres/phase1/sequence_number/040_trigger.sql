-- Phase 1.1, sequence_number: from now on every new message is numbered on insert.
-- CREATE TRIGGER takes a SHARE ROW EXCLUSIVE lock (it waits for inserts in flight and
-- holds new ones back for the moment it takes), under the runner's lock_timeout.
-- already-applied-if: SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'set_message_sequence' AND tgrelid = to_regclass('messages'))
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE TRIGGER set_message_sequence
    BEFORE INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION dbopt.set_message_sequence();
