-- Phase 1.1, full-text search: keep content_tsv for new messages and edited content.
-- already-applied-if: SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'messages_content_tsv' AND tgrelid = to_regclass('messages'))
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE TRIGGER messages_content_tsv
    BEFORE INSERT OR UPDATE OF content ON messages
    FOR EACH ROW EXECUTE FUNCTION dbopt.messages_content_tsv();
