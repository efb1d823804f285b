-- Full-text search after Phase 1.1 (the plan names content_tsv but gives no query): the
-- newest matching messages of one conversation, through the GIN index.
-- params: conversation_id, query, limit
SELECT id, sequence_number, created_at, content
FROM messages
WHERE conversation_id = $1
  AND deleted_at IS NULL
  AND content_tsv @@ plainto_tsquery(/*{{ts_config}}*/ 'simple'::regconfig, $2)
ORDER BY created_at DESC, id DESC
LIMIT $3
