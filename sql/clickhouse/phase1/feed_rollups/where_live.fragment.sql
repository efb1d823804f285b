event_ts >= toDateTime64('{{cutoff}}', 3, 'UTC')
