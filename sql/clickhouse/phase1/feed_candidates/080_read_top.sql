-- One user's best candidates from a table built for the request (benchmark only).
SELECT post_id, author_id, likes, comments, shares, impressions,
       freshness_score, engagement_score, affinity_score, combined_score, created_at
FROM {{table}}
ORDER BY {{order}} DESC
LIMIT {limit:UInt32};
