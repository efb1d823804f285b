-- The plan's rollback of 1.2 for the candidate tables. Their staging tables and backups
-- (feed_candidates_*__staging, feed_candidates_*__backup_*) are dropped the same way.
DROP TABLE IF EXISTS feed_candidates_followees {{on_cluster}} SYNC;
DROP TABLE IF EXISTS feed_candidates_trending {{on_cluster}} SYNC;
DROP TABLE IF EXISTS feed_candidates_affinity {{on_cluster}} SYNC;
