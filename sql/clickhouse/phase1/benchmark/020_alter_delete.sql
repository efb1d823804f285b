-- Benchmark only: removing one month the way the plan's "data cleanup" replaces, a mutation
-- that rewrites every part holding rows of the month (waited for).
ALTER TABLE {{table}} DELETE WHERE toYYYYMM(event_ts) = {month:UInt32}
SETTINGS mutations_sync = 2;
