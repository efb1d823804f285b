-- Phase 1.1, sequence_number sweep (batched over messages by (conversation_id, created_at, id),
-- as pass 2, so that a key range only sweeps conversations pass 2 has numbered): a message pass 2 could
-- not reach (its created_at moved behind the cursor while the backfill ran) takes the
-- next number of its conversation, exactly as a new message would. Normally touches nothing.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the backfill engine runs each batch in its own short transaction under lock_timeout and statement_timeout
UPDATE messages
SET sequence_number = dbopt.next_message_sequence(conversation_id)
WHERE /*{{batch}}*/ true AND sequence_number IS NULL;
