-- Check: no message without a sequence number, in the conversations of the check's scope
-- (pipelines/check_scope.py). Rendered without values, it reads every message.
WITH scoped AS (
    SELECT id FROM conversations WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id FROM conversations WHERE /*{{sampled}}*/ false
)
SELECT m.conversation_id, m.id
FROM messages AS m
WHERE m.conversation_id IN (SELECT id FROM scoped) AND m.sequence_number IS NULL
