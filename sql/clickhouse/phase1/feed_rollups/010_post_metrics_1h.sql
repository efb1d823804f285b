-- Phase 1.2 "Materializes post_metrics_1h": per post and hour, the net change in likes,
-- comments and shares (a create counts +1, a delete -1, an update 0, so an unlike cancels
-- its like) and the impressions. SummingMergeTree adds rows of the same (post_id, hour)
-- when parts merge, which is only eventually: always read it with GROUP BY and sum().
-- Feeding: each CDC table has a view (post_metrics_1h_from_<table>) writing normalized
-- rows into the Null table post_metrics_1h_events, and post_metrics_1h_mv aggregates
-- those into post_metrics_1h, so one view feeds the table whatever the source.
-- Impact: new objects only; each insert into a CDC table also writes a few rows here.
-- Rollback: 010_post_metrics_1h_rollback.sql.
CREATE TABLE IF NOT EXISTS post_metrics_1h {{on_cluster}} (
    post_id UUID,
    hour DateTime('UTC'),
    likes Int64,
    comments Int64,
    shares Int64,
    impressions Int64
) ENGINE = {{summing_merge_tree}}
PARTITION BY toYYYYMM(hour)
ORDER BY (post_id, hour);

CREATE TABLE IF NOT EXISTS post_metrics_1h_events {{on_cluster}} AS post_metrics_1h ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS post_metrics_1h_mv {{on_cluster}} TO post_metrics_1h AS
SELECT
    post_id,
    hour,
    sum(likes) AS likes,
    sum(comments) AS comments,
    sum(shares) AS shares,
    sum(impressions) AS impressions
FROM post_metrics_1h_events
GROUP BY post_id, hour;
