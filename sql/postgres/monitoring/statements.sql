-- Every statement pg_stat_statements counts for this database: calls and execution times
-- (ms) since it was last reset. Mean and stddev are turned into sums by the caller, so that
-- two samples give the interval's calls, mean and standard deviation.
SELECT
    s.userid::bigint AS userid,
    s.queryid,
    s.calls,
    s.total_exec_time,
    s.mean_exec_time,
    s.stddev_exec_time,
    s.min_exec_time,
    s.max_exec_time,
    left(s.query, 300) AS query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
  AND s.calls > 0
  AND s.queryid IS NOT NULL;
