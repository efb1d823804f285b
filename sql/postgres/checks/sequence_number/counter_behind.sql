-- Check: every conversation's counter is at least its highest number; otherwise the
-- trigger would hand out a number that is already taken. In the conversations of the
-- check's scope (pipelines/check_scope.py).
WITH scoped AS (
    SELECT id FROM conversations WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id FROM conversations WHERE /*{{sampled}}*/ false
)
SELECT c.id AS conversation_id, c.last_sequence_number, m.highest
FROM conversations AS c
JOIN (
    SELECT conversation_id, max(sequence_number) AS highest
    FROM messages
    WHERE conversation_id IN (SELECT id FROM scoped)
    GROUP BY conversation_id
) AS m ON m.conversation_id = c.id
WHERE c.last_sequence_number IS NULL OR c.last_sequence_number < m.highest
