-- Rows whose scores are not all in [0, 1] (a NaN fails BETWEEN too).
SELECT toString(post_id) AS post, toString(author_id) AS author,
       freshness_score, engagement_score, affinity_score, combined_score
FROM {{table}}
WHERE NOT (
    freshness_score BETWEEN 0 AND 1 AND engagement_score BETWEEN 0 AND 1
    AND affinity_score BETWEEN 0 AND 1 AND combined_score BETWEEN 0 AND 1
)
LIMIT {limit:UInt32};
