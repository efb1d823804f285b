-- Phase 1.1, sequence_number: NOT NULL, step 2 of 3. VALIDATE scans the table under a
-- SHARE UPDATE EXCLUSIVE lock, which does not block reads or writes.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE messages VALIDATE CONSTRAINT messages_sequence_number_not_null;

ALTER TABLE conversations VALIDATE CONSTRAINT conversations_last_sequence_number_not_null;
