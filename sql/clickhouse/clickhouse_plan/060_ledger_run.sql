-- What each step of one run took, from the ledger's finished rows (the receipt's actuals).
SELECT
    l.step AS step,
    argMax(l.started_at, l.recorded_at) AS started_at,
    argMax(l.finished_at, l.recorded_at) AS finished_at,
    argMax(l.outcome, l.recorded_at) AS outcome
FROM dbopt_ledger AS l
WHERE l.run_id = {run_id:String} AND l.finished_at IS NOT NULL
GROUP BY l.step
ORDER BY started_at
