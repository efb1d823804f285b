-- Whether a sequence number is already taken in a conversation (the message-send
-- comparison: after a hard delete, COUNT(*) + 1 names a number in use).
-- params: conversation_id, sequence_number
SELECT id FROM messages WHERE conversation_id = $1 AND sequence_number = $2 LIMIT 1
