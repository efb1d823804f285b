has({ids:Array(UUID)}, {{id_column}}) AND event_ts >= {since:DateTime64(3, 'UTC')}
