-- Where each step stands: its latest row.
SELECT
    step,
    argMax(outcome, recorded_at) AS state,
    argMax(finished_at, recorded_at) AS finished_at,
    argMax(detail, recorded_at) AS detail,
    argMax(run_id, recorded_at) AS run_id,
    argMax(checksum, recorded_at) AS checksum
FROM dbopt_ledger
GROUP BY step
ORDER BY step
