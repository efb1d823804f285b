-- Which parts of Phase 1.1 this database has, read from the catalog (the workload
-- benchmark runs only the query patterns the schema supports).
SELECT
    EXISTS (SELECT 1 FROM pg_attribute
            WHERE attrelid = to_regclass('public.messages') AND attname = 'sequence_number' AND NOT attisdropped)
        AS sequence_number,
    EXISTS (SELECT 1 FROM pg_trigger
            WHERE tgrelid = to_regclass('public.messages') AND tgname = 'set_message_sequence' AND tgenabled <> 'D')
        AS sequence_trigger,
    EXISTS (SELECT 1 FROM pg_attribute
            WHERE attrelid = to_regclass('public.conversations') AND attname = 'member_count' AND NOT attisdropped)
        AS member_count,
    EXISTS (SELECT 1 FROM pg_attribute
            WHERE attrelid = to_regclass('public.conversations') AND attname = 'last_message_id' AND NOT attisdropped)
        AS last_message_id,
    EXISTS (SELECT 1 FROM pg_trigger
            WHERE tgrelid = to_regclass('public.messages') AND tgname = 'update_last_message_on_insert'
              AND tgenabled <> 'D')
        AS last_message_trigger,
    EXISTS (SELECT 1 FROM pg_attribute
            WHERE attrelid = to_regclass('public.messages') AND attname = 'content_tsv' AND NOT attisdropped)
        AS content_tsv,
    EXISTS (SELECT 1 FROM pg_index AS i
            JOIN pg_class AS c ON c.oid = i.indexrelid
            JOIN pg_am AS am ON am.oid = c.relam
            JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = to_regclass('public.messages') AND am.amname = 'gin' AND a.attname = 'content_tsv'
              AND i.indisvalid)
        AS content_tsv_index,
    EXISTS (SELECT 1 FROM pg_index AS i
            JOIN pg_attribute AS a0 ON a0.attrelid = i.indrelid AND a0.attnum = i.indkey[0]
            JOIN pg_attribute AS a1 ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[1]
            WHERE i.indrelid = to_regclass('public.messages') AND i.indisvalid
              AND a0.attname = 'conversation_id' AND a1.attname = 'created_at')
        AS history_index,
    (SELECT count(*) FROM conversations) AS conversations,
    (SELECT count(*) FROM posts) AS posts
