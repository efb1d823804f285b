-- Benchmark only: the throughput limit of a repartition, one INSERT ... SELECT of the
-- whole table into a partitioned copy (no months, no checks, no catch-up, not online-safe).
INSERT INTO {{target}} SELECT * FROM {{source}};
