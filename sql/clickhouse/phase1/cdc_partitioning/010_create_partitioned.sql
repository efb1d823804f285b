-- Phase 1.2 "time-based partitioning of all CDC tables": the new table, built aside.
-- ClickHouse has no ALTER ... MODIFY PARTITION BY, so the table is rebuilt: same
-- columns (AS <table>), same sort key, partitioned by month of the event.
-- Impact: none on the live table (nothing reads or locks it).
-- Rollback: 010_create_partitioned_rollback.sql builds the baseline layout the same way.
CREATE TABLE IF NOT EXISTS {{target}} {{on_cluster}} AS {{table}}
ENGINE = {{merge_tree}}
PARTITION BY toYYYYMM(event_ts)
ORDER BY ({{sorting_key}});
