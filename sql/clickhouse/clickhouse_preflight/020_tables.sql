-- The CDC tables as the catalog sees them: rows, bytes, layout, and the materialized views an
-- INSERT into them feeds (`dependencies_table`). Read-only.
SELECT
    name,
    engine,
    partition_key,
    ifNull(total_rows, 0) AS total_rows,
    ifNull(total_bytes, 0) AS total_bytes,
    storage_policy,
    dependencies_table AS views
FROM system.tables
WHERE database = currentDatabase()
  AND has({names:Array(String)}, name)
ORDER BY name
