-- The posts of the window (created in [since, as_of]) that are live at as_of, with their
-- counts at as_of and two scores in [0, 1]. CDC semantics: the row with the highest
-- version of a key is its state, so a deleted post, an unliked like, a deleted comment
-- or a taken-back share is not counted. Every event of a post comes after its creation,
-- so only the window's partitions are read. The definition is 020_window_posts.fragment.sql.
--   freshness  = 0.5 ^ (age in hours / freshness half-life)
--   engagement = e / (e + engagement saturation), e = weighted likes, comments, shares, impressions
INSERT INTO {{posts}}
WITH
    -- Every author (all_authors = 1): the fragment reads `authors` only for the old feed.
    authors AS (SELECT toUUID('00000000-0000-0000-0000-000000000000') AS author_id LIMIT 0),
{{window_posts}}
SELECT post_id, author_id, created_at, likes, comments, shares, impressions, freshness_score, engagement_score
FROM window_posts
SETTINGS join_use_nulls = 0;
