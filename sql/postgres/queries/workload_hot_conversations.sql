-- The most recently active conversations (the ones being read now), newest first: the
-- entities the cache warm-up and the hot-read probe use.
-- params: n
SELECT conversation_id AS id, max(created_at) AS last_message_at
FROM messages
GROUP BY conversation_id
ORDER BY max(created_at) DESC, conversation_id
LIMIT $1
