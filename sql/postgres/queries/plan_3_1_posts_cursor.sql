-- The plan's 3.1, unchanged: cursor pagination of a user's posts (first page: NULL cursor).
-- params: user_id, cursor_created_at, cursor_id, limit
SELECT id, user_id, caption, image_key, image_sizes, status, content_type, created_at, updated_at, soft_delete
        FROM posts
        WHERE user_id = $1
          AND soft_delete IS NULL
          AND (
              ($2::timestamptz IS NULL)
              OR (created_at, id) < ($2, $3)
          )
        ORDER BY created_at DESC, id DESC
        LIMIT $4
