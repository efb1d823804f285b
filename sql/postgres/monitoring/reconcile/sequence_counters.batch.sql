-- Remedy for sequence drift (batched over conversations by id): a counter behind its
-- conversation's highest sequence number is set to that number, so the trigger's next
-- number is free again. Lock the batch's conversations first (the trigger numbers a message
-- under the same row lock, so no insert can number meanwhile), then read the highest number
-- in a new statement, whose snapshot sees every message committed before the lock.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the backfill engine runs each batch in its own short transaction under lock_timeout and statement_timeout
SELECT id FROM conversations WHERE /*{{batch}}*/ true ORDER BY id FOR NO KEY UPDATE;

UPDATE conversations AS c
SET last_sequence_number = fresh.highest
FROM (
    SELECT
        cv.id,
        (SELECT max(m.sequence_number) FROM messages AS m WHERE m.conversation_id = cv.id) AS highest
    FROM conversations AS cv
    WHERE cv.id IN (SELECT id FROM conversations WHERE /*{{batch}}*/ true)
) AS fresh
WHERE c.id = fresh.id
  AND fresh.highest IS NOT NULL
  AND (c.last_sequence_number IS NULL OR c.last_sequence_number < fresh.highest);
