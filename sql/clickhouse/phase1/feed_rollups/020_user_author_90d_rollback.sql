-- Rollback of 020 (plan: DROP TABLE IF EXISTS user_author_90d_mv), views first.
DROP TABLE IF EXISTS user_author_90d_from_likes_cdc {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d_from_comments_cdc {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d_from_shares_cdc {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d_mv {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d_events {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d__diff {{on_cluster}} SYNC;
DROP TABLE IF EXISTS user_author_90d__confirmed {{on_cluster}} SYNC;
