-- dbopt_ledger: what dbopt did to this ClickHouse database, one row per step start and
-- end, so `dbopt status` can say where the database stands (the latest row of a step
-- wins). Append-only; tiny. Kept by the rollback, which records itself here too.
CREATE TABLE IF NOT EXISTS dbopt_ledger {{on_cluster}} (
    step LowCardinality(String),
    checksum String,
    run_id String,
    started_at DateTime64(3, 'UTC'),
    finished_at Nullable(DateTime64(3, 'UTC')),
    outcome LowCardinality(String),
    detail String,
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = {{merge_tree}} ORDER BY (step, recorded_at);
