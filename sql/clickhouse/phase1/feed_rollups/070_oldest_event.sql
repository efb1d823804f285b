-- The oldest event a source table still holds (partition_cleanup drops whole months).
SELECT min(event_ts) FROM {{table}};
