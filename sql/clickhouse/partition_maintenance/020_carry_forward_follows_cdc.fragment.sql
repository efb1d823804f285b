SELECT
    follower_id,
    followee_id,
    argMax(created_at, version),
    argMax(op, version),
    {boundary:DateTime64(3, 'UTC')},
    max(version)
FROM follows_cdc
GROUP BY follower_id, followee_id
HAVING maxIf(version, event_ts >= {boundary:DateTime64(3, 'UTC')}) < max(version)
   AND argMax(op, version) != 'd'
