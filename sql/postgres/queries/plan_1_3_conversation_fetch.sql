-- The plan's 1.3 NEW CODE, unchanged: the denormalized conversation fetch.
-- params: conversation_id
SELECT id, member_count, last_message_id FROM conversations WHERE id = $1
