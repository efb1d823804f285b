-- A view that turns one CDC table's inserts into rollup rows. Created with a filter
-- that takes only events from the view's start point on (history is backfilled beside
-- it, month by month, instead of POPULATE, which loses rows inserted meanwhile).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{view}} {{on_cluster}} TO {{events}} AS
{{select}};
