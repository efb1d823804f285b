-- Check: every conversation's counter is at least its highest number; otherwise the
-- trigger would hand out a number that is already taken.
SELECT c.id AS conversation_id, c.last_sequence_number, m.highest
FROM conversations AS c
JOIN (SELECT conversation_id, max(sequence_number) AS highest FROM messages GROUP BY conversation_id) AS m
    ON m.conversation_id = c.id
WHERE c.last_sequence_number IS NULL OR c.last_sequence_number < m.highest
