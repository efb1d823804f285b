-- Plan 2.1's single JSON-aggregating history query as the plan shapes it (join every
-- message of the conversation to its reactions and attachments, GROUP BY, then ORDER BY
-- and LIMIT), with two changes:
-- 1. ORDER BY adds m.id. The plan orders by created_at alone, and messages share
--    created_at (the contract says so), so its pages are not a stable order: a page
--    boundary inside a run of equal timestamps can show a message twice or never.
-- 2. A keyset condition (created_at, id) > ($3, $4), for a cursor; with the first
--    instant and the nil uuid every row passes it, and the page's OFFSET applies.
-- The plan's shape aggregates the whole conversation before it can sort and LIMIT
-- (EXPLAIN: GroupAggregate over every message, then top-N sort), so it slows down with
-- the conversation's size; after_history_paged.sql selects the page first. The workload
-- benchmark measures both.
-- params: conversation_id, user_id, after_created_at, after_id, limit, offset
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
          AND m.recalled_at IS NULL
          AND (m.created_at, m.id) > ($3, $4)
        GROUP BY
            m.id, m.sender_id, m.sequence_number, m.created_at, m.recalled_at,
            m.updated_at, m.version_number, m.content,
            m.content_encrypted, m.content_nonce, m.message_type
        ORDER BY m.created_at ASC, m.id ASC
        LIMIT $5 OFFSET $6
