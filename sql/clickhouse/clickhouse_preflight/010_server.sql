-- The server's version and the engine of dbopt's database (EXCHANGE TABLES needs Atomic or
-- Replicated). Read-only.
SELECT
    version() AS version,
    (SELECT engine FROM system.databases WHERE name = currentDatabase()) AS database_engine
