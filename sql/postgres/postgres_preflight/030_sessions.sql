-- params: tables
-- postgres_preflight: other sessions of this database inside a transaction now, oldest
-- first, with the locks each holds on the tables the rollout changes. A session idle in
-- transaction that holds any of them blocks the rollout's DDL whatever its age. Without
-- pg_read_all_stats, other roles' state and xact_start read as NULL (the visibility finding
-- says so); their locks in pg_locks stay visible. Read twice by the preflight: a session
-- counts as stuck only when it is in the same idle state (same state_change) both times.
WITH rollout AS (
    SELECT to_regclass(name) AS rel FROM unnest($1::text []) AS name
),

held AS (
    SELECT
        l.pid,
        array_agg(DISTINCT l.relation::regclass::text ORDER BY l.relation::regclass::text) AS tables,
        array_agg(DISTINCT l.mode ORDER BY l.mode) AS modes
    FROM pg_locks AS l
    WHERE l.granted AND l.relation IN (SELECT rel FROM rollout WHERE rel IS NOT NULL)
    GROUP BY l.pid
)

SELECT
    a.pid,
    a.usename AS user_name,
    a.application_name,
    a.state,
    extract(EPOCH FROM clock_timestamp() - a.xact_start)::float8 AS xact_age_s,
    extract(EPOCH FROM clock_timestamp() - a.state_change)::float8 AS state_age_s,
    a.state_change::text AS state_since,
    h.tables AS locked_tables,
    h.modes AS lock_modes
FROM pg_stat_activity AS a
LEFT JOIN held AS h ON h.pid = a.pid
WHERE
    a.datname = current_database()
    AND a.backend_type = 'client backend'
    AND a.pid <> pg_backend_pid()
    AND (a.xact_start IS NOT NULL OR a.state IS NULL OR h.pid IS NOT NULL)
ORDER BY a.xact_start NULLS LAST, a.pid;
