-- Whether pg_stat_statements can be read here: the library must be preloaded by the server
-- and the extension created in this database; pg_stat_statements_info exists from PostgreSQL 14.
SELECT
    position('pg_stat_statements' IN current_setting('shared_preload_libraries')) > 0 AS library_loaded,
    to_regclass('pg_stat_statements') IS NOT NULL AS extension_created,
    to_regclass('pg_stat_statements_info') IS NOT NULL AS has_info;
