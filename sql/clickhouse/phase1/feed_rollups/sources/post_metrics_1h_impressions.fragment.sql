SELECT
    post_id,
    toStartOfHour(event_ts) AS hour,
    toInt64(0) AS likes,
    toInt64(0) AS comments,
    toInt64(0) AS shares,
    toInt64(1) AS impressions
FROM impressions
WHERE {{where}}
