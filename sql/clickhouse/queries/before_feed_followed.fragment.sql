    -- The authors the user follows at as_of (the latest row of a pair is not a delete).
    followed AS (
        SELECT followee_id AS author_id
        FROM follows_cdc
        WHERE follower_id = {user_id:UUID} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
        GROUP BY follower_id, followee_id
        HAVING argMax(op, version) != 'd'
    )
