-- Who holds the connections: client connections per database and application name.
SELECT
    coalesce(a.datname, '-') AS database,
    coalesce(nullif(a.application_name, ''), '-') AS application,
    count(*)::int AS connections,
    (count(*) FILTER (WHERE a.state = 'active'))::int AS active
FROM pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
GROUP BY 1, 2
ORDER BY connections DESC
LIMIT 15;
