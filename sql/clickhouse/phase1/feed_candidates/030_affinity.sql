-- Each user's affinity with an author: the user's live likes, comments and shares of the
-- author's posts made in the last affinity_days before as_of (an unlike, a deleted
-- comment, a taken-back share do not count), and a score in [0, 1]:
--   affinity = a / (a + affinity saturation), a = weighted likes, comments, shares
INSERT INTO {{affinity}}
WITH
    interactions AS (
        SELECT user_id, post_id, 1 AS is_like, 0 AS is_comment, 0 AS is_share
        FROM (
            SELECT post_id, user_id, argMax(op, version) AS last_op, argMax(created_at, version) AS created
            FROM likes_cdc
            WHERE event_ts >= {affinity_since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
              AND ({all_users:UInt8} OR has({users:Array(UUID)}, user_id))
            GROUP BY post_id, user_id
        )
        WHERE last_op != 'd' AND created >= {affinity_since:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT user_id, post_id, 0, 1, 0
        FROM (
            SELECT comment_id, post_id, user_id, argMax(op, version) AS last_op, argMax(created_at, version) AS created
            FROM comments_cdc
            WHERE event_ts >= {affinity_since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
              AND ({all_users:UInt8} OR has({users:Array(UUID)}, user_id))
            GROUP BY comment_id, post_id, user_id
        )
        WHERE last_op != 'd' AND created >= {affinity_since:DateTime64(3, 'UTC')}
        UNION ALL
        SELECT user_id, post_id, 0, 0, 1
        FROM (
            SELECT post_id, user_id, argMax(op, version) AS last_op, argMax(created_at, version) AS created
            FROM shares_cdc
            WHERE event_ts >= {affinity_since:DateTime64(3, 'UTC')} AND event_ts <= {as_of:DateTime64(3, 'UTC')}
              AND ({all_users:UInt8} OR has({users:Array(UUID)}, user_id))
            GROUP BY post_id, user_id
        )
        WHERE last_op != 'd' AND created >= {affinity_since:DateTime64(3, 'UTC')}
    )
SELECT user_id, author_id, likes, comments, shares, raw / (raw + {affinity_saturation:Float64}) AS affinity_score
FROM (
    SELECT
        i.user_id AS user_id,
        a.author_id AS author_id,
        toUInt32(sum(i.is_like)) AS likes,
        toUInt32(sum(i.is_comment)) AS comments,
        toUInt32(sum(i.is_share)) AS shares,
        {w_like:Float64} * likes + {w_comment:Float64} * comments + {w_share:Float64} * shares AS raw
    FROM interactions AS i
    INNER JOIN (
        SELECT post_id, any(author_id) AS author_id
        FROM posts_cdc
        WHERE post_id IN (SELECT post_id FROM interactions)
        GROUP BY post_id
    ) AS a ON a.post_id = i.post_id
    WHERE i.user_id != a.author_id
    GROUP BY i.user_id, a.author_id
);
