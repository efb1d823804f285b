-- Phase 1.1, full-text search backfill (batched over messages by id): rows that existed
-- before the trigger. An edit racing with a batch is safe both ways: the UPDATE re-reads
-- the row's latest content after waiting for its lock, and the trigger covers the edit.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the backfill engine runs each batch in its own short transaction under lock_timeout and statement_timeout
UPDATE messages
SET content_tsv = to_tsvector(/*{{ts_config}}*/ 'simple'::regconfig, content)
WHERE /*{{batch}}*/ true AND content_tsv IS NULL;
