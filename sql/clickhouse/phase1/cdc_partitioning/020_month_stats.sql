-- Rows and an order-independent checksum per month of events (all months, or the
-- listed ones). The checksum is a wrapping sum of row hashes, so it changes when a row
-- is missing, extra, duplicated or altered, whatever the order rows were written in.
SELECT
    toYYYYMM(event_ts) AS month,
    count() AS rows,
    sum(cityHash64({{columns}})) AS checksum
FROM {{table}}
WHERE empty({months:Array(UInt32)}) OR has({months:Array(UInt32)}, toYYYYMM(event_ts))
GROUP BY month
ORDER BY month;
