-- The authors with the most live posts: the deepest pages of plan 3.1's pagination.
-- params: n
SELECT user_id, count(*) AS posts
FROM posts
WHERE soft_delete IS NULL
GROUP BY user_id
ORDER BY count(*) DESC, user_id
LIMIT $1
