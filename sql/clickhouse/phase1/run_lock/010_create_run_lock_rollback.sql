-- Rollback of 010: only when no dbopt run is going (a run would create it again).
DROP TABLE IF EXISTS dbopt_run_lock {{on_cluster}} SYNC;
