-- postgres_preflight: the server and this role, read-only (pg_settings, pg_roles,
-- pg_stat_activity; counting sessions needs no privilege, their details do).
SELECT
    current_setting('server_version_num')::int AS version_num,
    current_setting('server_version') AS version,
    pg_is_in_recovery() AS in_recovery,
    current_user AS role_name,
    r.rolsuper AS superuser,
    (r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')) AS sees_other_sessions,
    current_setting('autovacuum') AS autovacuum,
    current_setting('max_connections')::int AS max_connections,
    current_setting('superuser_reserved_connections')::int AS superuser_reserved,
    coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections_now,
    r.rolconnlimit AS role_connection_limit,
    (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user AND backend_type = 'client backend')::int
        AS role_connections_now,
    d.datconnlimit AS database_connection_limit,
    (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend')::int
        AS database_connections_now
FROM pg_roles AS r, pg_database AS d
WHERE r.rolname = current_user AND d.datname = current_database();
