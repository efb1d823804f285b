-- The most recently active conversations (the ones being read now), newest first: the
-- entities the cache warm-up and the hot-read probe use. Never a strict_e2e conversation
-- (the probe sends into the hottest ones; nothing of ours touches end-to-end encrypted ones).
-- params: n
SELECT m.conversation_id AS id, max(m.created_at) AS last_message_at
FROM messages AS m
JOIN conversations AS c ON c.id = m.conversation_id
WHERE c.privacy_mode <> 'strict_e2e'
GROUP BY m.conversation_id
ORDER BY max(m.created_at) DESC, m.conversation_id
LIMIT $1
