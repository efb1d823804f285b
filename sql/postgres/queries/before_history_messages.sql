-- Message history before plan 2.1, query 1 of 3: one page of a conversation's visible
-- messages (include_recalled = false), by OFFSET. Then reactions, then attachments of
-- the page (before_history_reactions.sql, before_history_attachments.sql).
-- Columns of the baseline schema: the old code had no sequence_number to read.
-- params: conversation_id, limit, offset
SELECT id, sender_id, created_at, recalled_at, updated_at, version_number, content,
       content_encrypted, content_nonce, message_type
FROM messages
WHERE conversation_id = $1
  AND deleted_at IS NULL
  AND recalled_at IS NULL
ORDER BY created_at ASC, id ASC
LIMIT $2 OFFSET $3
