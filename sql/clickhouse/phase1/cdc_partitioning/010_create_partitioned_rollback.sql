-- Rollback of 010: the baseline layout (BASELINE.md: no PARTITION BY), used when no
-- backup of the baseline table is left to restore into.
CREATE TABLE IF NOT EXISTS {{target}} {{on_cluster}} AS {{table}}
ENGINE = {{merge_tree}}
ORDER BY ({{sorting_key}});
