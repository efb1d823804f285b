SELECT
    user_id,
    post_id,
    toDate(event_ts) AS day,
    toInt64(0) AS likes,
    toInt64(0) AS comments,
    toInt64(multiIf(op = 'c', 1, op = 'd', -1, 0)) AS shares
FROM shares_cdc
WHERE {{where}}
