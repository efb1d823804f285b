-- The default disk, where a table without parts yet (and a new table) is written.
SELECT
    name AS disk,
    free_space,
    unreserved_space,
    total_space,
    keep_free_space
FROM system.disks
WHERE name = 'default'
