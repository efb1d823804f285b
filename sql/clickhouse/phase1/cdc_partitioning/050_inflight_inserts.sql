-- INSERTs naming the table that started before the swap and still run: they write into
-- the old table (now the backup); the reconciliation waits for them. The processes of
-- this server, or on a cluster (CLICKHOUSE_CLUSTER) those of every replica, so INSERTs
-- sent to any replica count. Limit: an INSERT that reaches the table through a
-- materialized view (its text names another table) is not seen here; the reconcile's
-- passes after the wait still add what it wrote (docs/clickhouse.md, Production conditions).
SELECT count()
FROM {{processes}}
WHERE is_initial_query
  AND query_kind = 'Insert'
  AND query_id != queryID()
  AND elapsed >= {since_swap_s:Float64}
  AND positionCaseInsensitive(query, {table:String}) > 0;
