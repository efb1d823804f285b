-- Phase 1.1, conversation counters: keep last_message_id / last_message_at on every insert.
-- already-applied-if: SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'update_last_message_on_insert' AND tgrelid = to_regclass('messages'))
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE TRIGGER update_last_message_on_insert
    AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION dbopt.update_last_message_on_insert();
