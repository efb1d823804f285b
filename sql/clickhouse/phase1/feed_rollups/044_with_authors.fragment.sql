-- user_author_90d's rows from (user, post, day) rows: the post's author from posts_cdc,
-- the same lookup as user_author_90d_mv (an interaction whose post has no CDC row yet
-- has no author, and counts once the post arrives and the rollup is reconciled).
SELECT e.user_id AS user_id, a.author_id AS author_id, e.day AS day, e.likes AS likes, e.comments AS comments,
       e.shares AS shares
FROM ({{events}}) AS e
INNER JOIN (
    SELECT post_id, any(author_id) AS author_id FROM posts_cdc GROUP BY post_id
) AS a ON a.post_id = e.post_id
