-- The disks that hold each table's active parts, with their free space (`unreserved_space`
-- leaves out what running merges and inserts have reserved). Read-only.
SELECT
    p.table AS table,
    d.name AS disk,
    d.free_space AS free_space,
    d.unreserved_space AS unreserved_space,
    d.total_space AS total_space,
    d.keep_free_space AS keep_free_space
FROM
(
    SELECT DISTINCT table, disk_name
    FROM system.parts
    WHERE database = currentDatabase() AND active AND has({names:Array(String)}, table)
) AS p
INNER JOIN system.disks AS d ON d.name = p.disk_name
ORDER BY table, disk
