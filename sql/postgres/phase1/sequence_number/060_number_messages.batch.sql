-- Phase 1.1, sequence_number backfill, pass 2 (batched over messages by
-- (conversation_id, created_at, id), so one conversation of 200 000 messages spans many
-- small transactions): number the messages that existed before the trigger, 1..N per
-- conversation in (created_at, id) order.
--
-- Only rows still NULL are numbered: rows inserted since the trigger already carry
-- numbers above their conversation's initial count, which this pass never exceeds.
-- /*{{carry}}*/ 0 is the last number given in the conversation where the previous batch
-- stopped (/*{{lower_first}}*/ NULL::uuid); the statement returns it for the next batch.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the backfill engine runs each batch in its own short transaction under lock_timeout and statement_timeout
WITH todo AS (
    SELECT id, conversation_id, created_at
    FROM messages
    WHERE /*{{batch}}*/ true AND sequence_number IS NULL
),

numbered AS (
    SELECT
        id,
        conversation_id,
        row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, id)
        + CASE WHEN conversation_id = /*{{lower_first}}*/ NULL::uuid THEN /*{{carry}}*/ 0 ELSE 0 END AS seq
    FROM todo
),

updated AS (
    UPDATE messages AS m
    SET sequence_number = n.seq
    FROM numbered AS n
    WHERE m.id = n.id AND m.sequence_number IS NULL
    RETURNING m.conversation_id, m.sequence_number
)

SELECT
    count(*) AS rows,
    coalesce(
        max(sequence_number) FILTER (WHERE conversation_id = /*{{upper_first}}*/ NULL::uuid),
        CASE WHEN /*{{upper_first}}*/ NULL::uuid = /*{{lower_first}}*/ NULL::uuid THEN /*{{carry}}*/ 0 ELSE 0 END
    ) AS carry
FROM updated;
