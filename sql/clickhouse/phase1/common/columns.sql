-- Column names of a table in their declared order.
SELECT name
FROM system.columns
WHERE database = currentDatabase() AND table = {table:String}
ORDER BY position
