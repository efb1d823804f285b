-- Months a CDC table holds events in (the repartition copies one month at a time). Reads the
-- event_ts column only.
SELECT
    uniqExact(toYYYYMM(event_ts)) AS months,
    min(event_ts) AS oldest,
    max(event_ts) AS newest
FROM {{table}}
