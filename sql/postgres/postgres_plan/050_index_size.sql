-- params: scratch, index
-- postgres_plan: the size of an index the sample built.
SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::bigint AS bytes
FROM pg_class AS c
INNER JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2;
