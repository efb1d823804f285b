-- The ledger is the record of the rollout, including its rollback: it is not dropped
-- by rollback_phase1_clickhouse. Drop it by hand only to forget the history.
DROP TABLE IF EXISTS dbopt_ledger {{on_cluster}} SYNC;
