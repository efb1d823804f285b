-- Feed candidates before Phase 1.2, query 2 of 3: the window's posts with the best
-- freshness and engagement, the same for everyone, computed from the CDC tables at
-- request time (rules of the candidate build: affinity 0, combined of the other two).
WITH
    authors AS (SELECT toUUID('00000000-0000-0000-0000-000000000000') AS author_id LIMIT 0),
{{window_posts}}
SELECT
    'trending' AS source,
    post_id, author_id, likes, comments, shares, impressions, freshness_score, engagement_score,
    0.0 AS affinity_score,
    ({w_freshness:Float64} * freshness_score + {w_engagement:Float64} * engagement_score)
        / ({w_freshness:Float64} + {w_engagement:Float64}) AS combined_score,
    created_at
FROM window_posts
ORDER BY combined_score DESC, post_id
LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 0
