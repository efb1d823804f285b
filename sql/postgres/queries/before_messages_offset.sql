-- Pagination of messages before plan 3 (GET /api/v1/messages?limit=50&offset=N): the
-- page by OFFSET, which reads and discards every row before it. The columns of plan 3.2
-- that the baseline has.
-- params: conversation_id, limit, offset
SELECT id, sender_id, created_at, content, content_encrypted, content_nonce,
       message_type, version_number, recalled_at, updated_at
FROM messages
WHERE conversation_id = $1 AND deleted_at IS NULL
ORDER BY created_at ASC, id ASC
LIMIT $2 OFFSET $3
