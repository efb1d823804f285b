-- The newest receipt (predicted against actual) that phase1_clickhouse recorded in the ledger.
SELECT detail, finished_at
FROM dbopt_ledger
WHERE step = 'clickhouse.plan_receipt' AND outcome = 'succeeded'
ORDER BY recorded_at DESC
LIMIT 1
