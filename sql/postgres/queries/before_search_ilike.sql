-- Message search before Phase 1.1: a substring match, which reads every message of the
-- conversation (no index serves a leading wildcard). Same rows and order as
-- message_search.sql, the content_tsv query that replaces it.
-- params: conversation_id, query, limit
SELECT id, created_at, content
FROM messages
WHERE conversation_id = $1
  AND deleted_at IS NULL
  AND content ILIKE '%' || $2 || '%'
ORDER BY created_at DESC, id DESC
LIMIT $3
