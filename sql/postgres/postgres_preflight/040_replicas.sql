-- postgres_preflight: the replicas streaming from this server and how far behind each
-- replays (NULL lag without pg_read_all_stats, or when a replica is idle and caught up).
SELECT
    application_name,
    client_addr::text AS client_addr,
    state,
    extract(EPOCH FROM replay_lag)::float8 AS replay_lag_s
FROM pg_stat_replication
ORDER BY application_name;
