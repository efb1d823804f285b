-- Phase 1.1, sequence_number: uniqueness, step 2 of 2: the constraint adopts the index
-- built above, so no scan happens under the lock.
-- already-applied-if: SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'messages_conversation_sequence_key' AND conrelid = to_regclass('messages'))
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER TABLE messages
    ADD CONSTRAINT messages_conversation_sequence_key UNIQUE USING INDEX messages_conversation_sequence_key;
