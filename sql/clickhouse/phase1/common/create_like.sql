-- An empty table with the structure, engine, partition and sort key of another.
CREATE TABLE IF NOT EXISTS {{name}} {{on_cluster}} AS {{like}};
