-- Check: no two messages of one conversation share a sequence number.
SELECT conversation_id, sequence_number, count(*) AS messages
FROM messages
WHERE sequence_number IS NOT NULL
GROUP BY conversation_id, sequence_number
HAVING count(*) > 1
