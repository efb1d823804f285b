-- Check: no message in the check's scope without content_tsv (the backfill left none).
WITH scoped AS (
    SELECT id, content_tsv FROM messages WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id, content_tsv FROM messages WHERE /*{{sampled}}*/ false
)
SELECT id FROM scoped WHERE content_tsv IS NULL
