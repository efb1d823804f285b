-- The reconcile's work tables: differences seen once, and those seen twice (confirmed).
-- Impact: small tables beside the rollup, dropped at the end of the step.
CREATE TABLE IF NOT EXISTS {{name}} {{on_cluster}} AS {{table}}
ENGINE = {{merge_tree}}
ORDER BY ({{key}});
