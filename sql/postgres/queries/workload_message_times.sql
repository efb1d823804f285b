-- created_at of some messages (the conversation-fetch comparison: two "last messages"
-- that share created_at are both right).
-- params: ids
SELECT id, created_at FROM messages WHERE id = ANY($1::uuid[])
