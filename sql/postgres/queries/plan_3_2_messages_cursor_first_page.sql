-- The plan's 3.2, first page, unchanged but for its elided column list ("...").
-- params: conversation_id, limit
SELECT id, sender_id, sequence_number, created_at, content, content_encrypted, content_nonce,
       message_type, version_number, recalled_at, updated_at
        FROM messages
        WHERE conversation_id = $1 AND deleted_at IS NULL
        ORDER BY created_at ASC, id ASC
        LIMIT $2
