-- params: run_id
-- postgres_plan's receipt: how long each step of one run took. DDL and index steps from the
-- migration ledger; backfills from their checkpoints (first range started to last finished),
-- which the caller prefers for them over the ledger's record of their completion.
SELECT 'ledger' AS source, step, extract(epoch FROM finished_at - started_at)::float8 AS seconds
FROM dbopt.migration_ledger
WHERE run_id = $1 AND outcome = 'applied' AND finished_at IS NOT NULL
UNION ALL
SELECT
    'checkpoints' AS source,
    backfill AS step,
    extract(epoch FROM max(coalesce(finished_at, updated_at)) - min(started_at))::float8 AS seconds
FROM dbopt.backfill_progress
WHERE run_id = $1
GROUP BY backfill;
