-- Pagination of a user's posts before plan 3 (GET /api/v1/posts?limit=20&offset=N): the
-- page by OFFSET, in the order of plan 3.1.
-- params: user_id, limit, offset
SELECT id, user_id, caption, image_key, image_sizes, status, content_type, created_at, updated_at, soft_delete
FROM posts
WHERE user_id = $1
  AND soft_delete IS NULL
ORDER BY created_at DESC, id DESC
LIMIT $2 OFFSET $3
