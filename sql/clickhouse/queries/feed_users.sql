-- Users for the feed probes: followers, picked by a hash of the seed so that every run
-- on the same data (before and after Phase 1.2) measures the same users.
SELECT toString(follower_id) AS user_id
FROM follows_cdc
GROUP BY follower_id
ORDER BY cityHash64(follower_id, {seed:UInt64})
LIMIT {n:UInt32}
