-- Check: content_tsv equals to_tsvector(<config>, content), on a random sample of messages.
SELECT id, left(content, 60) AS content
FROM messages TABLESAMPLE BERNOULLI (/*{{sample_pct}}*/ 100)
WHERE content_tsv IS DISTINCT FROM to_tsvector(/*{{ts_config}}*/ 'simple'::regconfig, content)
