has({months:Array(UInt32)}, toYYYYMM(event_ts)) AND event_ts >= {since:DateTime64(3, 'UTC')}
