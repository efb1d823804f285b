-- Drop a table or view dbopt created (staging, backup, work table, rollup, candidates).
DROP TABLE IF EXISTS {{name}} {{on_cluster}} SYNC;
