-- Phase 1.1, sequence_number: NOT NULL without a long lock, step 1 of 3. A CHECK added
-- NOT VALID is only enforced for new rows, so adding it needs no scan.
-- already-applied-if: SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'messages_sequence_number_not_null' AND conrelid = to_regclass('messages')) AND EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'conversations_last_sequence_number_not_null' AND conrelid = to_regclass('conversations'))
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE messages
    ADD CONSTRAINT messages_sequence_number_not_null CHECK (sequence_number IS NOT NULL) NOT VALID;

ALTER TABLE conversations
    ADD CONSTRAINT conversations_last_sequence_number_not_null CHECK (last_sequence_number IS NOT NULL) NOT VALID;
