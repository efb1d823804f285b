-- (user, author) pairs of feed_candidates_followees that are not a current follow at
-- the table's as_of (never followed, or unfollowed: the latest row is a delete).
SELECT toString(c.user_id) AS user, toString(c.author_id) AS author, f.last_op AS latest_op
FROM (SELECT DISTINCT user_id, author_id FROM {{table}}) AS c
LEFT JOIN (
    SELECT follower_id AS user_id, followee_id AS author_id, toString(argMax(op, version)) AS last_op
    FROM follows_cdc
    WHERE follower_id IN (SELECT user_id FROM {{table}})
      AND event_ts <= (SELECT max(as_of) FROM {{table}})
    GROUP BY follower_id, followee_id
) AS f ON f.user_id = c.user_id AND f.author_id = c.author_id
WHERE f.last_op NOT IN ('c', 'u')
LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 0;
