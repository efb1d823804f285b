-- INSERTs running now that name a CDC table: the swap waits for them, and a long one
-- delays it. Only the query id, user, elapsed time and tables are read, never the text.
SELECT
    query_id,
    user,
    round(elapsed, 1) AS elapsed_s,
    arrayFilter(t -> positionCaseInsensitive(query, t) > 0, {names:Array(String)}) AS tables
FROM system.processes
WHERE is_initial_query
  AND query_kind = 'Insert'
  AND query_id != queryID()
  AND length(arrayFilter(t -> positionCaseInsensitive(query, t) > 0, {names:Array(String)})) > 0
ORDER BY elapsed DESC
