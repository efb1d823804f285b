-- dbopt_run_lock: one ClickHouse job at a time against this database, whatever starts it
-- (the UI, a schedule, `dagster job execute`, two Dagster instances). A run appends a claim,
-- renews its expiry while it works and appends a release at the end; a killed run's claim
-- lapses when it expires. Append-only: the latest row of a claim (by _block_number) is its
-- state, and the claim's first block number orders the claims. Block numbers are given
-- in commit order, so a claim committed earlier always has the smaller one, and a run that
-- reads back after its own insert sees every claim committed before it.
-- Impact: a tiny new table. Rollback: 010_create_run_lock_rollback.sql.
CREATE TABLE IF NOT EXISTS dbopt_run_lock {{on_cluster}} (
    resource LowCardinality(String),
    claim_id String,
    run_id String,
    job String,
    host String,
    expires_at DateTime64(3, 'UTC'),
    released UInt8,
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = {{merge_tree}}
ORDER BY (resource, claim_id)
TTL toDateTime(recorded_at) + INTERVAL 30 DAY
SETTINGS enable_block_number_column = 1;
