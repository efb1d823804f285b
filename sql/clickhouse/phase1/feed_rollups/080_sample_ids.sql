-- A reproducible sample of ids that have events (posts, or the users who act).
SELECT DISTINCT toString({{id_column}}) AS id
FROM {{table}}
WHERE event_ts >= {since:DateTime64(3, 'UTC')}
ORDER BY cityHash64(id)
LIMIT {n:UInt32};
