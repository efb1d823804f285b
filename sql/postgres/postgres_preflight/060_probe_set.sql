-- params: token
-- postgres_preflight: a session setting (the transaction-pooling probe). A session SET
-- lives as long as the server session; through a transaction pooler the next
-- transaction may run on another server session, or another client may see it.
SELECT set_config('dbopt.preflight_probe', $1, false);
