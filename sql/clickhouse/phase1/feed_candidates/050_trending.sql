-- feed_candidates_trending: the window's live posts with the best freshness and
-- engagement, the same for everyone (affinity 0; combined weighs the other two).
INSERT INTO {{staging}}
SELECT
    post_id, author_id, likes, comments, shares, impressions, freshness_score, engagement_score,
    0.0 AS affinity_score,
    ({w_freshness:Float64} * freshness_score + {w_engagement:Float64} * engagement_score)
        / ({w_freshness:Float64} + {w_engagement:Float64}) AS combined_score,
    created_at,
    {as_of:DateTime64(3, 'UTC')} AS as_of
FROM {{posts}}
ORDER BY combined_score DESC, post_id
LIMIT {trending_limit:UInt32};
