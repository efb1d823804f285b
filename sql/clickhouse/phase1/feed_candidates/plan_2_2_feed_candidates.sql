-- The plan's Phase 2.2 query (feed_ranking.rs, get_feed_candidates), verbatim: it must run
-- unchanged against the candidate tables. Its placeholders are bound by the service's client
-- in order: user_id, limit, limit, user_id, limit.

        SELECT
            'followees' as source,
            post_id, author_id, likes, comments, shares, impressions,
            freshness_score, engagement_score, affinity_score, combined_score, created_at
        FROM feed_candidates_followees
        WHERE user_id = ?
        ORDER BY combined_score DESC
        LIMIT ?

        UNION ALL

        SELECT
            'trending' as source,
            post_id, author_id, likes, comments, shares, impressions,
            freshness_score, engagement_score, affinity_score, combined_score, created_at
        FROM feed_candidates_trending
        ORDER BY combined_score DESC
        LIMIT ?

        UNION ALL

        SELECT
            'affinity' as source,
            post_id, author_id, likes, comments, shares, impressions,
            freshness_score, engagement_score, affinity_score, combined_score, created_at
        FROM feed_candidates_affinity
        WHERE user_id = ?
        ORDER BY affinity_score DESC
        LIMIT ?
