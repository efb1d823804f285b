-- Plan 1.3 OLD CODE (message_service.rs, lines 85-90), unchanged: the sequence number of a
-- new message was the conversation's message count, read before the insert.
-- params: conversation_id
SELECT COUNT(*)::bigint FROM messages WHERE conversation_id = $1
