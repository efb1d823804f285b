-- Plan 4.2's find_post_by_id, the query behind find_post_by_id_cached.
-- params: post_id
SELECT id, user_id, caption, image_key, image_sizes, status, content_type, created_at, updated_at, soft_delete
FROM posts
WHERE id = $1
