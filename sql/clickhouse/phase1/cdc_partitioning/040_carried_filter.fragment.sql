-- Fragment of 040_copy_missing.sql: its source filter when restoring the baseline.
AND NOT (
    event_ts = toDateTime64(toStartOfMonth(event_ts), 3, 'UTC')
    AND ({{key_columns}}, version) IN (SELECT {{key_columns}}, version FROM {{target}})
)
