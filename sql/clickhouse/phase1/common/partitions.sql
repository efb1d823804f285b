-- Active, non-empty partitions of a table (the plan's alert counts these).
SELECT
    partition_id,
    sum(rows) AS part_rows,
    sum(bytes_on_disk) AS part_bytes,
    count() AS parts
FROM system.parts
WHERE database = currentDatabase() AND table = {table:String} AND active AND rows > 0
GROUP BY partition_id
ORDER BY partition_id
