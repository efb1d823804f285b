-- Phase 1.1, full-text search: content_tsv = to_tsvector(<configured config>, content),
-- for every insert and every change of content. The configuration is chosen in the job's
-- config ({{ts_config}}); changing it later changes this file's checksum, and the runner
-- refuses rather than leave old rows indexed under another configuration.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, prefer-robust-stmts -- the runner applies this file in one transaction under lock_timeout (500 ms by default) and statement_timeout, and skips it once the ledger says it is applied
CREATE OR REPLACE FUNCTION dbopt.messages_content_tsv()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.content_tsv := to_tsvector(/*{{ts_config}}*/ 'simple'::regconfig, NEW.content);
    RETURN NEW;
END
$$;
