-- The newest live posts (the ones being read now) with their authors: the entities the
-- cache warm-up and the hot-read probe use.
-- params: n
SELECT id, user_id
FROM posts
WHERE soft_delete IS NULL
ORDER BY created_at DESC, id DESC
LIMIT $1
