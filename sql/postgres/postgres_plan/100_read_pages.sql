-- params: pct
-- postgres_plan: a timed read of random pages of a table a backfill rewrites (TABLESAMPLE
-- SYSTEM: whole pages, through the buffer manager as VACUUM reads them), for what one of the
-- backfill engine's VACUUMs of that table costs per byte here. ACCESS SHARE: no writer waits.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- runs in the plan's transaction under SET LOCAL lock_timeout and statement_timeout, rolled back
SELECT count(*) AS rows
FROM /*{{table}}*/ messages AS t TABLESAMPLE SYSTEM ($1::real);
