-- Rollback of 010 (plan: DROP TABLE IF EXISTS post_metrics_1h_mv): the views first, so
-- no insert into a CDC table writes into a table being dropped. Nothing else reads these.
DROP TABLE IF EXISTS post_metrics_1h_from_likes_cdc {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h_from_comments_cdc {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h_from_shares_cdc {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h_from_impressions {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h_mv {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h_events {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h__diff {{on_cluster}} SYNC;
DROP TABLE IF EXISTS post_metrics_1h__confirmed {{on_cluster}} SYNC;
