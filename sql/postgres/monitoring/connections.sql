-- Client connections to the server by state, those waiting on a lock, and the oldest
-- transaction of each state. Background workers have their own slots and are left out.
SELECT
    coalesce(a.state, 'unknown') AS state,
    count(*)::int AS connections,
    (count(*) FILTER (WHERE a.wait_event_type = 'Lock'))::int AS waiting_on_lock,
    coalesce(max(extract(epoch FROM clock_timestamp() - a.xact_start)), 0)::float8 AS oldest_transaction_s
FROM pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
GROUP BY coalesce(a.state, 'unknown')
ORDER BY connections DESC;
