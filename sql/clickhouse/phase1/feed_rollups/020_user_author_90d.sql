-- Phase 1.2 "Materializes user_author_90d": per user, author and day, the net likes,
-- comments and shares the user gave the author's posts. Rows expire 91 days after their
-- day (TTL, applied as parts merge), so "the last 90 days" is
--   SELECT user_id, author_id, sum(likes), sum(comments), sum(shares) FROM user_author_90d
--   WHERE day > today() - 90 GROUP BY user_id, author_id
-- Feeding: views user_author_90d_from_<table> write (user, post, day) rows into the Null
-- table user_author_90d_events; user_author_90d_mv looks up each post's author in
-- posts_cdc (only the posts of the inserted block: inside a view, every reference to its
-- source table means the inserted rows) and sums into user_author_90d.
-- Impact: new objects only; each insert of likes/comments/shares reads their posts' rows.
-- Rollback: 020_user_author_90d_rollback.sql.
CREATE TABLE IF NOT EXISTS user_author_90d {{on_cluster}} (
    user_id UUID,
    author_id UUID,
    day Date,
    likes Int64,
    comments Int64,
    shares Int64
) ENGINE = {{summing_merge_tree}}
PARTITION BY toYYYYMM(day)
ORDER BY (user_id, author_id, day)
TTL day + INTERVAL 91 DAY;

CREATE TABLE IF NOT EXISTS user_author_90d_events {{on_cluster}} (
    user_id UUID,
    post_id UUID,
    day Date,
    likes Int64,
    comments Int64,
    shares Int64
) ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_author_90d_mv {{on_cluster}} TO user_author_90d AS
SELECT
    e.user_id AS user_id,
    a.author_id AS author_id,
    e.day AS day,
    sum(e.likes) AS likes,
    sum(e.comments) AS comments,
    sum(e.shares) AS shares
FROM user_author_90d_events AS e
INNER JOIN (
    SELECT post_id, any(author_id) AS author_id
    FROM posts_cdc
    WHERE post_id IN (SELECT post_id FROM user_author_90d_events)
    GROUP BY post_id
) AS a ON a.post_id = e.post_id
GROUP BY user_id, author_id, day;
