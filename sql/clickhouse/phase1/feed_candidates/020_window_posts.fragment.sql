    -- The window's live posts of the enclosing query's `authors` (all of them with
    -- all_authors = 1), with their counts at as_of and the freshness and engagement scores.
    -- One definition for two users: the candidate build (020_posts.sql, every author) and
    -- the feed before Phase 1.2, which computed it at request time (queries/before_feed_*).
    live AS (
        SELECT post_id, argMax(author_id, version) AS author, argMax(created_at, version) AS created,
               argMax(op, version) AS last_op
        FROM posts_cdc
        WHERE event_ts >= {since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
        GROUP BY post_id
        HAVING last_op != 'd' AND created >= {since:DateTime64(3, 'UTC')} AND created <= {as_of:DateTime64(3, 'UTC')}
            AND ({all_authors:UInt8} = 1 OR author IN (SELECT author_id FROM authors))
    ),
    like_counts AS (
        SELECT post_id, countIf(last_op != 'd') AS n
        FROM (
            SELECT post_id, user_id, argMax(op, version) AS last_op
            FROM likes_cdc
            WHERE event_ts >= {since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
              AND post_id IN (SELECT post_id FROM live)
            GROUP BY post_id, user_id
        )
        GROUP BY post_id
    ),
    comment_counts AS (
        SELECT post_id, countIf(last_op != 'd') AS n
        FROM (
            SELECT post_id, comment_id, argMax(op, version) AS last_op
            FROM comments_cdc
            WHERE event_ts >= {since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
              AND post_id IN (SELECT post_id FROM live)
            GROUP BY post_id, comment_id
        )
        GROUP BY post_id
    ),
    share_counts AS (
        SELECT post_id, countIf(last_op != 'd') AS n
        FROM (
            SELECT post_id, user_id, argMax(op, version) AS last_op
            FROM shares_cdc
            WHERE event_ts >= {since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
              AND post_id IN (SELECT post_id FROM live)
            GROUP BY post_id, user_id
        )
        GROUP BY post_id
    ),
    impression_counts AS (
        SELECT post_id, count() AS n
        FROM impressions
        WHERE event_ts >= {since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
          AND post_id IN (SELECT post_id FROM live)
        GROUP BY post_id
    ),
    window_posts AS (
        SELECT
            post_id, author_id, created_at, likes, comments, shares, impressions,
            pow(0.5, greatest(dateDiff('second', created_at, {as_of:DateTime64(3, 'UTC')}), 0) / 3600.0
                / {freshness_half_life_hours:Float64}) AS freshness_score,
            e / (e + {engagement_saturation:Float64}) AS engagement_score
        FROM (
            SELECT
                p.post_id AS post_id,
                p.author AS author_id,
                p.created AS created_at,
                toUInt32(l.n) AS likes,
                toUInt32(c.n) AS comments,
                toUInt32(s.n) AS shares,
                toUInt32(i.n) AS impressions,
                {w_like:Float64} * likes + {w_comment:Float64} * comments + {w_share:Float64} * shares
                    + {w_impression:Float64} * impressions AS e
            FROM live AS p
            LEFT JOIN like_counts AS l ON l.post_id = p.post_id
            LEFT JOIN comment_counts AS c ON c.post_id = p.post_id
            LEFT JOIN share_counts AS s ON s.post_id = p.post_id
            LEFT JOIN impression_counts AS i ON i.post_id = p.post_id
        )
    )
