-- Check: content_tsv equals to_tsvector(<config>, content), on the messages in the check's
-- scope (pipelines/check_scope.py): the id ranges this run wrote, in full, and a random
-- sample of the rest. Rendered without values, it reads every message.
WITH scoped AS (
    SELECT id, content, content_tsv FROM messages WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id, content, content_tsv FROM messages WHERE /*{{sampled}}*/ false
)
SELECT id, left(content, 60) AS content
FROM scoped
WHERE content_tsv IS DISTINCT FROM to_tsvector(/*{{ts_config}}*/ 'simple'::regconfig, content)
