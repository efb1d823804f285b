-- params: statement_timeout, lock_timeout
-- postgres_preflight: every transaction of the preflight is READ ONLY and bounded. SET LOCAL
-- (set_config(..., true)) rather than a session SET, because a session setting does not
-- survive a transaction pooler, which is one of the things the preflight looks for.
SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true);
