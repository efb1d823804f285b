-- params: tables
-- postgres_preflight: tables the rollout changes whose storage parameters turn
-- autovacuum off (the backfills' dead tuples would never be reclaimed there).
SELECT t.name AS table_name
FROM unnest($1::text []) AS t (name)
INNER JOIN pg_class AS c ON c.oid = to_regclass(t.name)
WHERE
    c.reloptions IS NOT NULL
    AND EXISTS (
        SELECT 1 FROM unnest(c.reloptions) AS o (opt)
        WHERE lower(o.opt) IN ('autovacuum_enabled=false', 'autovacuum_enabled=off', 'autovacuum_enabled=0', 'autovacuum_enabled=no')
    )
ORDER BY t.name;
