-- Phase 1.1, conversation counters: keep member_count as members join and leave.
-- already-applied-if: SELECT count(*) = 2 FROM pg_trigger WHERE tgname IN ('update_member_count_on_add', 'update_member_count_on_remove') AND tgrelid = to_regclass('conversation_members')
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE TRIGGER update_member_count_on_add
    AFTER INSERT ON conversation_members
    FOR EACH ROW EXECUTE FUNCTION dbopt.update_member_count_on_add();

CREATE TRIGGER update_member_count_on_remove
    AFTER DELETE ON conversation_members
    FOR EACH ROW EXECUTE FUNCTION dbopt.update_member_count_on_remove();
