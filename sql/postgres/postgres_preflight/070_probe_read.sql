-- postgres_preflight: which server session answers, and the probe setting it holds.
SELECT pg_backend_pid() AS pid, coalesce(current_setting('dbopt.preflight_probe', true), '') AS token;
