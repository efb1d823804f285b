-- Verification before the swap, the other way round from the catch-up: per listed month,
-- the rows the new table holds beyond the source, as a multiset (a month copied twice,
-- a retried copy whose first attempt the server finished after all, or rows the source
-- deleted with ALTER DELETE meanwhile). Any month listed here is copied again before the
-- swap; rows the source has and the new table lacks are the catch-up's (new events).
SELECT toYYYYMM(event_ts) AS month, sum(t.dbopt_n - s.dbopt_n) AS extra
FROM (
{{target_rows}}
) AS t
LEFT JOIN (
{{source_rows}}
) AS s USING ({{columns}})
WHERE t.dbopt_n > s.dbopt_n
GROUP BY month
ORDER BY month
SETTINGS join_use_nulls = 0;
