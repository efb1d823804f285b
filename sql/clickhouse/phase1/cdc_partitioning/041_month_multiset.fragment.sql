-- The rows of the listed months of one table as a multiset: each distinct row and how
-- many times it is there (040's catch-up and 045's verification compare two of these).
SELECT {{columns}}, count() AS dbopt_n
FROM {{table}}
WHERE has({months:Array(UInt32)}, toYYYYMM(event_ts)) {{filter}}
GROUP BY {{columns}}
