-- Tables of the current database by name or LIKE pattern, with their layout and the
-- materialized views that an INSERT into them feeds (`dependencies_table`).
SELECT
    name,
    engine,
    partition_key,
    sorting_key,
    total_rows,
    dependencies_table AS views
FROM system.tables
WHERE database = currentDatabase()
  AND (has({names:Array(String)}, name) OR ({like:String} != '' AND name LIKE {like:String}))
ORDER BY name
