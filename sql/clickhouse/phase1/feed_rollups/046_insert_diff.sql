-- The backfill (into the rollup) or a first observation (into the reconcile's work
-- table): the differences of the listed months. Written straight into the table, not
-- through the views, so nothing else sees them twice.
INSERT INTO {{into}} ({{key}}, {{measures}})
{{diff}};
