SELECT
    post_id,
    toStartOfHour(event_ts) AS hour,
    toInt64(0) AS likes,
    toInt64(0) AS comments,
    toInt64(multiIf(op = 'c', 1, op = 'd', -1, 0)) AS shares,
    toInt64(0) AS impressions
FROM shares_cdc
WHERE {{where}}
