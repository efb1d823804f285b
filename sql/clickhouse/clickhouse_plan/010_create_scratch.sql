-- The plan's calibration sample runs in a scratch database of its own, dropped right after:
-- nothing of the application's database is written. MergeTree partitioned by month like the
-- repartition's copy, on this server only (no ON CLUSTER, no replication).
CREATE DATABASE IF NOT EXISTS {{scratch}};
CREATE TABLE {{scratch}}.copy AS {{source}}
ENGINE = MergeTree PARTITION BY toYYYYMM(event_ts) ORDER BY ({{sorting_key}});
