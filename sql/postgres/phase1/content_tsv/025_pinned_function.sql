-- Phase 1.1, full-text search: pin 020's function to a search_path (020 stays as it was
-- applied, and its body depends on the configured text search configuration). It runs
-- with the caller's settings; the configuration name in its body must resolve the same
-- for every application session. Catalog change only.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
ALTER FUNCTION dbopt.messages_content_tsv() SET search_path = pg_catalog, public, pg_temp;
