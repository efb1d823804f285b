-- Check (warning): numbers run 1..N without gaps. A gap means a message was hard-deleted
-- (the application soft-deletes with deleted_at), or a counter ran ahead of its messages.
-- In the conversations of the check's scope (pipelines/check_scope.py).
WITH scoped AS (
    SELECT id FROM conversations WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id FROM conversations WHERE /*{{sampled}}*/ false
)
SELECT c.id AS conversation_id, c.last_sequence_number, coalesce(m.messages, 0) AS messages, m.lowest, m.highest
FROM conversations AS c
JOIN scoped AS s ON s.id = c.id
LEFT JOIN (
    SELECT conversation_id, count(*) AS messages, min(sequence_number) AS lowest, max(sequence_number) AS highest
    FROM messages
    WHERE conversation_id IN (SELECT id FROM scoped)
    GROUP BY conversation_id
) AS m ON m.conversation_id = c.id
WHERE c.last_sequence_number <> coalesce(m.messages, 0)
   OR m.lowest <> 1
   OR m.highest <> m.messages
