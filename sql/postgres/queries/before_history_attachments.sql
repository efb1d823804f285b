-- Message history before plan 2.1, query 3 of 3: the attachments of one page's messages.
-- The baseline has no index on message_attachments (message_id); Phase 1.1 adds one.
-- params: message_ids
SELECT id, message_id, file_name, file_type, file_size, s3_key
FROM message_attachments
WHERE message_id = ANY($1::uuid[])
