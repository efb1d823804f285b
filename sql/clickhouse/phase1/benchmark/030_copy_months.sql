-- Benchmark only: a copy of a few months of a table, for the partition-drop comparison.
INSERT INTO {{target}} SELECT * FROM {{source}} WHERE has({months:Array(UInt32)}, toYYYYMM(event_ts));
