-- Work tables of one build, shared by the three candidate tables so each figure is
-- computed once: the window's live posts with their counts and scores, the current
-- follows, each user's affinity with authors, and the (user, author) pairs a user table
-- is built from. Dropped when the build ends.
CREATE TABLE IF NOT EXISTS {{posts}} {{on_cluster}} (
    post_id UUID,
    author_id UUID,
    created_at DateTime64(3, 'UTC'),
    likes UInt32,
    comments UInt32,
    shares UInt32,
    impressions UInt32,
    freshness_score Float64,
    engagement_score Float64
) ENGINE = {{merge_tree}} ORDER BY (author_id, post_id);

CREATE TABLE IF NOT EXISTS {{follows}} {{on_cluster}} (
    user_id UUID,
    author_id UUID
) ENGINE = {{merge_tree}} ORDER BY (author_id, user_id);

CREATE TABLE IF NOT EXISTS {{affinity}} {{on_cluster}} (
    user_id UUID,
    author_id UUID,
    likes UInt32,
    comments UInt32,
    shares UInt32,
    affinity_score Float64
) ENGINE = {{merge_tree}} ORDER BY (user_id, author_id);

CREATE TABLE IF NOT EXISTS {{pairs}} {{on_cluster}} (
    user_id UUID,
    author_id UUID,
    affinity_score Float64
) ENGINE = {{merge_tree}} ORDER BY (author_id, user_id);
