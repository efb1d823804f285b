    -- The user's live likes, comments and shares of the last affinity_days, and the
    -- affinity with each author they went to (the build's 030_affinity.sql, for one user).
    interactions AS (
        SELECT post_id, 1 AS is_like, 0 AS is_comment, 0 AS is_share
        FROM (
            SELECT post_id, user_id, argMax(op, version) AS last_op, argMax(created_at, version) AS created
            FROM likes_cdc
            WHERE user_id = {user_id:UUID}
              AND event_ts >= {affinity_since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
            GROUP BY post_id, user_id
        )
        WHERE last_op != 'd' AND created >= {affinity_since:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT post_id, 0, 1, 0
        FROM (
            SELECT comment_id, post_id, user_id, argMax(op, version) AS last_op, argMax(created_at, version) AS created
            FROM comments_cdc
            WHERE user_id = {user_id:UUID}
              AND event_ts >= {affinity_since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
            GROUP BY comment_id, post_id, user_id
        )
        WHERE last_op != 'd' AND created >= {affinity_since:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT post_id, 0, 0, 1
        FROM (
            SELECT post_id, user_id, argMax(op, version) AS last_op, argMax(created_at, version) AS created
            FROM shares_cdc
            WHERE user_id = {user_id:UUID}
              AND event_ts >= {affinity_since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
            GROUP BY post_id, user_id
        )
        WHERE last_op != 'd' AND created >= {affinity_since:DateTime64(3, 'UTC')}
    ),
    affinity AS (
        SELECT author_id, raw / (raw + {affinity_saturation:Float64}) AS affinity_score
        FROM (
            SELECT
                a.author_id AS author_id,
                {w_like:Float64} * toUInt32(sum(i.is_like)) + {w_comment:Float64} * toUInt32(sum(i.is_comment))
                    + {w_share:Float64} * toUInt32(sum(i.is_share)) AS raw
            FROM interactions AS i
            INNER JOIN (
                SELECT post_id, any(author_id) AS author_id
                FROM posts_cdc
                WHERE post_id IN (SELECT post_id FROM interactions)
                GROUP BY post_id
            ) AS a ON a.post_id = i.post_id
            WHERE a.author_id != {user_id:UUID}
            GROUP BY a.author_id
        )
    )
