-- The feed's change-data-capture tables before the plan (BASELINE.md, "ClickHouse baseline"):
-- no PARTITION BY. `op`: 'c' create, 'u' update, 'd' delete; the row with the highest
-- `version` of a key is its current state. `dbopt seed` creates them on an empty database.

CREATE TABLE IF NOT EXISTS posts_cdc (
    post_id UUID,
    author_id UUID,
    content_type LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    op Enum8('c' = 1, 'u' = 2, 'd' = 3),
    event_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = MergeTree ORDER BY (post_id, version);

CREATE TABLE IF NOT EXISTS likes_cdc (
    post_id UUID,
    user_id UUID,
    created_at DateTime64(3, 'UTC'),
    op Enum8('c' = 1, 'u' = 2, 'd' = 3),
    event_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = MergeTree ORDER BY (post_id, user_id, version);

CREATE TABLE IF NOT EXISTS comments_cdc (
    comment_id UUID,
    post_id UUID,
    user_id UUID,
    created_at DateTime64(3, 'UTC'),
    op Enum8('c' = 1, 'u' = 2, 'd' = 3),
    event_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = MergeTree ORDER BY (post_id, comment_id, version);

CREATE TABLE IF NOT EXISTS shares_cdc (
    post_id UUID,
    user_id UUID,
    created_at DateTime64(3, 'UTC'),
    op Enum8('c' = 1, 'u' = 2, 'd' = 3),
    event_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = MergeTree ORDER BY (post_id, user_id, version);

CREATE TABLE IF NOT EXISTS follows_cdc (
    follower_id UUID,
    followee_id UUID,
    created_at DateTime64(3, 'UTC'),
    op Enum8('c' = 1, 'u' = 2, 'd' = 3),
    event_ts DateTime64(3, 'UTC'),
    version UInt64
) ENGINE = MergeTree ORDER BY (follower_id, followee_id, version);

CREATE TABLE IF NOT EXISTS impressions (
    post_id UUID,
    user_id UUID,
    event_ts DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (post_id, event_ts);
