-- A view that turns one CDC table's inserts into rollup rows, created open: from the
-- moment it exists every insert into the CDC table is counted, whatever its event_ts
-- (late, or ahead of any clock). The history inserted before it is added by the
-- reconcile (045-048) instead of POPULATE, which loses rows inserted meanwhile.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{view}} {{on_cluster}} TO {{events}} AS
{{select}};
