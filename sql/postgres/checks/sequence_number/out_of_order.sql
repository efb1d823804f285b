-- Check (warning): numbers follow (created_at, id) order within each conversation. A
-- message inserted with a created_at older than its conversation's newest one gets the
-- next number anyway (it is a later message); this lists such inversions. In the
-- conversations of the check's scope (pipelines/check_scope.py).
WITH scoped AS (
    SELECT id FROM conversations WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id FROM conversations WHERE /*{{sampled}}*/ false
)
SELECT conversation_id, id, created_at, sequence_number, previous_number
FROM (
    SELECT conversation_id, id, created_at, sequence_number,
           lag(sequence_number) OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS previous_number
    FROM messages
    WHERE conversation_id IN (SELECT id FROM scoped)
) AS ordered
WHERE previous_number > sequence_number
