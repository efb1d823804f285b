-- dbopt's own bookkeeping, in a schema of its own so the application's schema stays
-- exactly the contract's: the migration ledger, backfill checkpoints, and the catalog
-- fingerprint of the baseline taken before the rollout (rollback compares against it).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- only new objects in a new schema that nothing else uses, so no lock here can block the application

CREATE SCHEMA IF NOT EXISTS dbopt;

COMMENT ON SCHEMA dbopt IS 'dbopt: migration ledger, backfill checkpoints and trigger functions of the optimization rollout';

-- Trigger functions live here; the application's roles must be able to call them.
GRANT USAGE ON SCHEMA dbopt TO PUBLIC;

CREATE TABLE IF NOT EXISTS dbopt.migration_ledger (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    step text NOT NULL,
    checksum text NOT NULL,
    run_id text,
    outcome text NOT NULL CHECK (outcome IN ('running', 'applied', 'failed', 'rolled_back', 'skipped')),
    detail text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- squawk-ignore require-concurrent-index-creation -- the table is dbopt's own and created just above
CREATE INDEX IF NOT EXISTS migration_ledger_step_idx ON dbopt.migration_ledger (step, id DESC);

CREATE TABLE IF NOT EXISTS dbopt.backfill_progress (
    backfill text NOT NULL,
    key_range text NOT NULL,
    cursor_values text[],
    carry bigint NOT NULL DEFAULT 0,
    rows_done bigint NOT NULL DEFAULT 0,
    batches bigint NOT NULL DEFAULT 0,
    batch_size bigint NOT NULL DEFAULT 0,
    run_id text,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (backfill, key_range)
);

CREATE TABLE IF NOT EXISTS dbopt.baseline_fingerprint (
    schema_name text PRIMARY KEY,
    fingerprint text NOT NULL,
    catalog jsonb NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now()
);
