-- Message history in one JSON-aggregating query (plan 2.1's goal: 3 queries -> 1), with
-- the page selected first: the index on (conversation_id, created_at, id) yields the 100
-- messages in order and stops; only those get their reactions and attachments aggregated
-- (subqueries per message, through the indexes on message_id). Same columns and JSON as
-- the plan's 2.1 (plan_2_1_message_history.sql), ordered by (created_at, id) so pages are
-- stable. Phase 2 passes the first instant and the nil uuid with the page's OFFSET;
-- Phase 3 passes a decoded cursor and offset 0.
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
    COALESCE(
        (SELECT json_agg(jsonb_build_object('emoji', r.emoji, 'count', r.reaction_count,
                                            'user_reacted', r.user_reacted))
         FROM (
             SELECT emoji, COUNT(*) AS reaction_count, BOOL_OR(user_id = $2) AS user_reacted
             FROM message_reactions
             WHERE message_id = m.id
             GROUP BY emoji
         ) AS r),
        '[]'::json
    ) AS reactions_json,
    COALESCE(
        (SELECT json_agg(jsonb_build_object('id', a.id, 'file_name', a.file_name, 'file_type', a.file_type,
                                            'file_size', a.file_size, 's3_key', a.s3_key))
         FROM message_attachments AS a
         WHERE a.message_id = m.id),
        '[]'::json
    ) AS attachments_json
FROM (
    SELECT id, sender_id, sequence_number, created_at, recalled_at, updated_at, version_number, content,
           content_encrypted, content_nonce, message_type
    FROM messages
    WHERE conversation_id = $1
      AND deleted_at IS NULL
      AND recalled_at IS NULL
      AND (created_at, id) > ($3, $4)
    ORDER BY created_at ASC, id ASC
    LIMIT $5 OFFSET $6
) AS m
ORDER BY m.created_at ASC, m.id ASC
