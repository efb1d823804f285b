-- Current follows at as_of (the latest row of a follower/followee pair is not a delete):
-- the whole history is read, because a follow made years ago is still a follow.
INSERT INTO {{follows}}
SELECT follower_id AS user_id, followee_id AS author_id
FROM follows_cdc
WHERE event_ts <= {as_of:DateTime64(3, 'UTC')}
  AND ({all_users:UInt8} OR has({users:Array(UUID)}, follower_id))
GROUP BY follower_id, followee_id
HAVING argMax(op, version) != 'd';
