-- params: scratch, index, key
-- postgres_plan: the same index built again on about half of the sample's rows (a partial
-- index over a hash of the key), in the sample's transaction, so that the plan sees how the
-- index grows with rows: a GIN index stores each key once and compresses its posting lists,
-- so it grows slower than the rows, where a btree grows with them.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, require-concurrent-index-creation -- runs in the plan's transaction under SET LOCAL lock_timeout and statement_timeout on the sample's own table, rolled back
SELECT
    regexp_replace(pg_get_indexdef(c.oid), '^CREATE (UNIQUE )?INDEX \S+ ON ', 'CREATE \1INDEX ' || quote_ident(c.relname || '_plan_half') || ' ON ')
    || ' WHERE (hashtext(' || $3 || '::text) & 1) = 0' AS ddl,
    quote_ident(c.relname || '_plan_half') AS half
FROM pg_class AS c
INNER JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2;
