-- params: tables
-- postgres_preflight: what this role may do on each table the rollout changes, and where
-- dbopt's own schema goes. Ownership (or membership in the owning role) is what ALTER
-- TABLE, CREATE INDEX and ANALYZE need; PostgreSQL has no separate ALTER privilege.
SELECT
    t.name AS table_name,
    c.oid IS NOT NULL AS present,
    pg_get_userbyid(c.relowner) AS owner,
    coalesce(pg_has_role(current_user, c.relowner, 'USAGE'), false) AS owned,
    coalesce(has_table_privilege(c.oid, 'TRIGGER'), false) AS can_trigger,
    coalesce(has_table_privilege(c.oid, 'UPDATE'), false) AS can_update,
    has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
    (SELECT oid FROM pg_namespace WHERE nspname = 'dbopt') IS NOT NULL AS dbopt_schema_exists,
    coalesce(
        (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = 'dbopt'), false
    ) AS can_create_in_dbopt
FROM unnest($1::text []) WITH ORDINALITY AS t (name, ord)
LEFT JOIN pg_class AS c ON c.oid = to_regclass(t.name)
ORDER BY t.ord;
