-- Phase 1.1, sequence_number backfill, pass 2 (batched over messages by
-- (conversation_id, created_at, id), so one conversation of 200 000 messages spans many
-- small transactions): number the messages that existed before the trigger, 1..N per
-- conversation in (created_at, id) order.
--
-- The same UPDATE sets content_tsv (as the content_tsv trigger, installed before this pass,
-- would: /*{{ts_config}}*/ 'simple'::regconfig), so every message is rewritten once, not once per new column:
-- each rewrite leaves a dead version and, with full pages, a new entry in every index.
-- The content_tsv backfill after this pass then only sweeps rows this one did not reach.
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
    SET
        sequence_number = n.seq,
        content_tsv = coalesce(m.content_tsv, to_tsvector(/*{{ts_config}}*/ 'simple'::regconfig, m.content))
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
