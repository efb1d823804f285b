-- feed_candidates_followees / _affinity: the window's live posts of each pair's author,
-- the best per_user_limit per user (followees by combined score, affinity by affinity
-- then combined score).
--   combined = (w_f * freshness + w_e * engagement + w_a * affinity) / (w_f + w_e + w_a)
INSERT INTO {{staging}}
SELECT
    pr.user_id AS user_id,
    p.post_id AS post_id,
    p.author_id AS author_id,
    p.likes, p.comments, p.shares, p.impressions,
    p.freshness_score AS freshness_score,
    p.engagement_score AS engagement_score,
    pr.affinity_score AS affinity_score,
    ({w_freshness:Float64} * freshness_score + {w_engagement:Float64} * engagement_score
        + {w_affinity:Float64} * affinity_score)
        / ({w_freshness:Float64} + {w_engagement:Float64} + {w_affinity:Float64}) AS combined_score,
    p.created_at AS created_at,
    {as_of:DateTime64(3, 'UTC')} AS as_of
FROM {{pairs}} AS pr
INNER JOIN {{posts}} AS p ON p.author_id = pr.author_id
ORDER BY user_id, {{rank}}, post_id
LIMIT {per_user_limit:UInt32} BY user_id;
