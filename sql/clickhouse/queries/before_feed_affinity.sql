-- Feed candidates before Phase 1.2, query 3 of 3: the window's posts of authors the user
-- interacted with in the last affinity_days but does not follow, by affinity, computed
-- from the CDC tables at request time (rules of the candidate build).
WITH
{{followed}},
{{affinity}},
    authors AS (
        SELECT author_id FROM affinity WHERE author_id NOT IN (SELECT author_id FROM followed)
    ),
{{window_posts}}
SELECT
    'affinity' AS source,
    p.post_id AS post_id, p.author_id AS author_id, p.likes AS likes, p.comments AS comments,
    p.shares AS shares, p.impressions AS impressions,
    p.freshness_score AS freshness_score, p.engagement_score AS engagement_score,
    a.affinity_score AS affinity_score,
    ({w_freshness:Float64} * freshness_score + {w_engagement:Float64} * engagement_score
        + {w_affinity:Float64} * affinity_score)
        / ({w_freshness:Float64} + {w_engagement:Float64} + {w_affinity:Float64}) AS combined_score,
    p.created_at AS created_at
FROM window_posts AS p
INNER JOIN affinity AS a ON a.author_id = p.author_id
ORDER BY affinity_score DESC, combined_score DESC, post_id
LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 0
