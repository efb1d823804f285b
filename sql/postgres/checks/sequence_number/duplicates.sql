-- Check: no two messages of one conversation share a sequence number, in the
-- conversations of the check's scope (pipelines/check_scope.py).
WITH scoped AS (
    SELECT id FROM conversations WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id FROM conversations WHERE /*{{sampled}}*/ false
)
SELECT m.conversation_id, m.sequence_number, count(*) AS messages
FROM messages AS m
WHERE m.conversation_id IN (SELECT id FROM scoped) AND m.sequence_number IS NOT NULL
GROUP BY m.conversation_id, m.sequence_number
HAVING count(*) > 1
