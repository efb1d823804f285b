-- Phase 1.1, sequence_number backfill, pass 1 (batched over conversations by id):
-- initialize each conversation's counter to the number of messages it already has.
-- Lock the batch's uninitialized conversations first, so that no insert can sit between
-- its own counter update and its commit; then count in a new statement, whose snapshot
-- sees every message committed before the lock. A conversation the trigger initialized
-- meanwhile is no longer NULL and is left alone.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the backfill engine runs each batch in its own short transaction under lock_timeout and statement_timeout
SELECT id FROM conversations WHERE /*{{batch}}*/ true AND last_sequence_number IS NULL ORDER BY id FOR NO KEY UPDATE;

UPDATE conversations AS c
SET last_sequence_number = (SELECT count(*) FROM messages AS m WHERE m.conversation_id = c.id)
WHERE c.id IN (SELECT id FROM conversations WHERE /*{{batch}}*/ true)
  AND c.last_sequence_number IS NULL;
