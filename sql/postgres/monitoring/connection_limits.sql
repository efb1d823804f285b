-- The server's connection ceiling: every client pool shares max_connections, of which
-- superuser_reserved_connections are kept for superusers.
SELECT
    current_setting('max_connections')::int AS max_connections,
    current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections;
