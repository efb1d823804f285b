-- The plan's 2.1 NEW CODE: message history in one query with JSON aggregation. Rendered
-- as it is, this is the plan's query unchanged, with include_recalled = false (the plan's
-- format placeholder becomes AND m.recalled_at IS NULL). Its variants are rendered from this
-- file; the values are in dbopt/postgres/plan_queries.py:
-- - WITH_RECALLED: include_recalled = true, the format placeholder becomes empty.
-- - STABLE_PAGES: the plan's shape (join every message of the conversation to its
--   reactions and attachments, GROUP BY, then ORDER BY and LIMIT) with two changes, for the
--   workload benchmark (pattern plan_2_1_as_written):
--   1. ORDER BY adds m.id. The plan orders by created_at alone, and messages share
--      created_at (the contract says so), so its pages are not a stable order: a page
--      boundary inside a run of equal timestamps can show a message twice or never.
--   2. A keyset condition (created_at, id) > (after_created_at, after_id), for a cursor;
--      with the first instant and the nil uuid every row passes it, and the page's OFFSET
--      applies.
--   The plan's shape aggregates the whole conversation before it can sort and LIMIT
--   (EXPLAIN: GroupAggregate over every message, then top-N sort), so it slows down with
--   the conversation's size; after_history_paged.sql selects the page first. The workload
--   benchmark measures both.
-- params: conversation_id, user_id, limit, offset, after_created_at, after_id
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
          /*{{recalled_filter}}*/AND m.recalled_at IS NULL/*{{/recalled_filter}}*/
          /*{{keyset}}*//*{{/keyset}}*/
        GROUP BY
            m.id, m.sender_id, m.sequence_number, m.created_at, m.recalled_at,
            m.updated_at, m.version_number, m.content,
            m.content_encrypted, m.content_nonce, m.message_type
        ORDER BY m.created_at ASC/*{{tie_break}}*//*{{/tie_break}}*/
        LIMIT $3 OFFSET $4
