toYYYYMM(event_ts) = {month:UInt32}
AND event_ts >= {since:DateTime64(3, 'UTC')}
AND event_ts < {cutoff:DateTime64(3, 'UTC')}
