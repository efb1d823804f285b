-- Rows of each month of a CDC table (reads event_ts only): the plan times the copy of one
-- whole month, the repartition's own unit of work, picked by its size.
SELECT toYYYYMM(event_ts) AS month, count() AS rows
FROM {{table}}
GROUP BY month
ORDER BY month
