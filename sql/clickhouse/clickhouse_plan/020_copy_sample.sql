-- Timed: a sample of the table copied the way the repartition copies (INSERT ... SELECT into
-- a monthly partitioned MergeTree), into the scratch database.
INSERT INTO {{scratch}}.copy SELECT * FROM {{source}} LIMIT {rows:UInt64}
