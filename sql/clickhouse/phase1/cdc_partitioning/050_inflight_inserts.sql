-- INSERTs naming the table that started before the swap and still run: they write into
-- the old table (now the backup); the reconciliation waits for them.
SELECT count()
FROM system.processes
WHERE query_kind = 'Insert'
  AND query_id != queryID()
  AND elapsed >= {since_swap_s:Float64}
  AND positionCaseInsensitive(query, {table:String}) > 0;
