-- Phase 1.2 "Creates feed_candidates_followees / _trending / _affinity" (BASELINE.md
-- columns, plus as_of: the instant the rows describe). Followees and affinity start with
-- user_id and are sorted by it, so the plan's `WHERE user_id = ?` reads one user's rows;
-- trending is the same for everyone and has no user_id.
-- Created under a staging name, filled, checked, then swapped in with EXCHANGE TABLES;
-- the previous table is kept as a backup.
-- Rollback: 010_candidate_tables_rollback.sql (the plan's DROP TABLE statements).
CREATE TABLE IF NOT EXISTS {{name}} {{on_cluster}} (
    {{user_column}}
    post_id UUID,
    author_id UUID,
    likes UInt32,
    comments UInt32,
    shares UInt32,
    impressions UInt32,
    freshness_score Float64,
    engagement_score Float64,
    affinity_score Float64,
    combined_score Float64,
    created_at DateTime64(3, 'UTC'),
    as_of DateTime64(3, 'UTC')
) ENGINE = {{merge_tree}}
ORDER BY ({{order_by}});
