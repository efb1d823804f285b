-- Check: no INVALID index on the application's tables (left by a failed concurrent build).
SELECT t.relname AS table_name, c.relname AS index_name
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
WHERE NOT (i.indisvalid AND i.indisready)
  AND t.oid IN (
      SELECT to_regclass(x)
      FROM unnest(ARRAY['conversations', 'conversation_members', 'messages', 'message_reactions',
                        'message_attachments', 'posts']) AS x
  )
