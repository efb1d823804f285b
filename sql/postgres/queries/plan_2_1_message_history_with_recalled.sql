-- The plan's 2.1 NEW CODE, unchanged: message history in one query with JSON aggregation
-- (include_recalled = true: the format placeholder becomes empty).
-- params: conversation_id, user_id, limit, offset
SELECT
            m.id,
            m.sender_id,
            m.sequence_number,
            m.created_at,
            m.recalled_at,
            m.updated_at,
            m.version_number,
            m.content,
            m.content_encrypted,
            m.content_nonce,
            m.message_type,

            -- Aggregate reactions
            COALESCE(
                json_agg(
                    DISTINCT jsonb_build_object(
                        'emoji', r.emoji,
                        'count', r.reaction_count,
                        'user_reacted', r.user_reacted
                    )
                ) FILTER (WHERE r.emoji IS NOT NULL),
                '[]'::json
            ) as reactions_json,

            -- Aggregate attachments
            COALESCE(
                json_agg(
                    DISTINCT jsonb_build_object(
                        'id', a.id,
                        'file_name', a.file_name,
                        'file_type', a.file_type,
                        'file_size', a.file_size,
                        's3_key', a.s3_key
                    )
                ) FILTER (WHERE a.id IS NOT NULL),
                '[]'::json
            ) as attachments_json
        FROM messages m
        LEFT JOIN LATERAL (
            SELECT
                emoji,
                COUNT(*) as reaction_count,
                BOOL_OR(user_id = $2) as user_reacted
            FROM message_reactions
            WHERE message_id = m.id
            GROUP BY emoji
        ) r ON true
        LEFT JOIN message_attachments a ON a.message_id = m.id
        WHERE m.conversation_id = $1
          AND m.deleted_at IS NULL
        GROUP BY
            m.id, m.sender_id, m.sequence_number, m.created_at, m.recalled_at,
            m.updated_at, m.version_number, m.content,
            m.content_encrypted, m.content_nonce, m.message_type
        ORDER BY m.created_at ASC
        LIMIT $3 OFFSET $4
