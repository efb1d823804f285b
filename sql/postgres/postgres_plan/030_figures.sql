-- params: tables
-- postgres_plan: rows (the planner's estimate, no count(*)), pages and bytes (heap and TOAST)
-- and the bytes of its indexes of each table, read from the catalog; the application's tables
-- when `tables` names them unqualified, the sample's when qualified by the scratch schema.
SELECT
    t.name AS "table",
    greatest(c.reltuples, 0)::bigint AS rows,
    c.relpages::bigint AS pages,
    pg_table_size(c.oid) AS bytes,
    pg_indexes_size(c.oid) AS index_bytes
FROM unnest($1::text[]) AS t (name)
INNER JOIN pg_class AS c ON c.oid = to_regclass(t.name);
