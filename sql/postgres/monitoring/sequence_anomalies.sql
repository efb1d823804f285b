-- Drift of sequence numbers, sampled: for a random sample of conversations plus the largest
-- ones (as conversation_counters/mismatch.sql samples them), a counter behind its highest
-- number (the trigger would hand out a number already taken), messages without a number,
-- or a number used twice. One statement, so one snapshot: exact while writers are busy.
WITH sample AS (
    (SELECT id FROM conversations ORDER BY random() LIMIT /*{{sample}}*/ 5000)
    UNION
    (SELECT conversation_id FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 10)
)
SELECT c.id AS conversation_id, c.last_sequence_number, m.highest, m.unnumbered, m.used_twice
FROM conversations AS c
JOIN sample AS s ON s.id = c.id
CROSS JOIN LATERAL (
    SELECT
        max(msg.sequence_number) AS highest,
        count(*) FILTER (WHERE msg.sequence_number IS NULL) AS unnumbered,
        count(msg.sequence_number) - count(DISTINCT msg.sequence_number) AS used_twice
    FROM messages AS msg
    WHERE msg.conversation_id = c.id
) AS m
WHERE (m.highest IS NOT NULL AND (c.last_sequence_number IS NULL OR c.last_sequence_number < m.highest))
   OR m.unnumbered > 0
   OR m.used_twice > 0
