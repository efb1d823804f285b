-- postgres_plan's receipt as `dbopt status` shows it: the last one recorded.
SELECT detail, finished_at
FROM dbopt.migration_ledger
WHERE step = 'postgres_plan/receipt'
ORDER BY id DESC
LIMIT 1;
