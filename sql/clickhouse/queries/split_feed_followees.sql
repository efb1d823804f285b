-- Feed candidates after Phase 1.2 and before 2.2: query 1 of the 3 that plan 2.2 merges
-- into one UNION ALL (sql/clickhouse/phase1/feed_candidates/plan_2_2_feed_candidates.sql),
-- each its own round trip, against the candidate table.
SELECT
    'followees' AS source,
    post_id, author_id, likes, comments, shares, impressions,
    freshness_score, engagement_score, affinity_score, combined_score, created_at
FROM feed_candidates_followees
WHERE user_id = {user_id:UUID}
ORDER BY combined_score DESC
LIMIT {limit:UInt32}
