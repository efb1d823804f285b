-- params: scratch, index
-- postgres_plan: the size of an index the sample built, and for a btree how many row versions
-- it holds (the sample's own updates leave dead versions that a build in the same transaction
-- indexes; a GIN index counts keys there, and a dead version without content_tsv adds little).
SELECT
    pg_relation_size(c.oid)::bigint AS bytes,
    CASE WHEN a.amname = 'btree' THEN greatest(c.reltuples, 0)::bigint END AS entries
FROM pg_class AS c
INNER JOIN pg_namespace AS n ON n.oid = c.relnamespace
INNER JOIN pg_am AS a ON a.oid = c.relam
WHERE n.nspname = $1 AND c.relname = $2;
