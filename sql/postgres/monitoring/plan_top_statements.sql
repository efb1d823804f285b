-- The plan's "Monitoring Post-Deployment", 1. Query Performance (pg_stat_statements), verbatim:
-- statements slower than 50 ms on average, by total time, since the statistics were last reset.
SELECT
    calls,
    mean_exec_time::int as avg_ms,
    total_exec_time::int as total_ms,
    query
FROM pg_stat_statements
WHERE mean_exec_time > 50
ORDER BY total_exec_time DESC
LIMIT 20;
