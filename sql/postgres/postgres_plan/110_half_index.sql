-- params: scratch, index, key
-- postgres_plan: for a GIN index over one tsvector column, the same index built again on about
-- half of the sample's rows (a partial index over a hash of the key, in the sample's
-- transaction), with the column's name, so that the plan can tell what the index spends per
-- key (each lexeme stored once: keys grow slower than rows) from what it spends per posting
-- (one per row and lexeme: grows with rows). NULL for any other index.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- runs in the plan's transaction under SET LOCAL lock_timeout and statement_timeout on the sample's own table, rolled back
SELECT
    regexp_replace(pg_get_indexdef(c.oid), '^CREATE (UNIQUE )?INDEX \S+ ON ', 'CREATE \1INDEX ' || quote_ident(c.relname || '_plan_half') || ' ON ')
    || ' WHERE (hashtext(' || quote_ident($3) || '::text) & 1) = 0' AS ddl,
    c.relname || '_plan_half' AS half,
    a.attname AS "column"
FROM pg_class AS c
INNER JOIN pg_namespace AS n ON n.oid = c.relnamespace
INNER JOIN pg_am AS am ON am.oid = c.relam
INNER JOIN pg_index AS i ON i.indexrelid = c.oid
INNER JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE n.nspname = $1 AND c.relname = $2 AND am.amname = 'gin' AND i.indnatts = 1
  AND a.atttypid = 'tsvector'::regtype;
