-- Phase 1.1, the end: the btree indexes of the tables the rollout rewrote that are larger
-- than /*{{max_percent}}*/ 120 percent of a compact build of their entries (and at least
-- /*{{min_bytes}}*/ 1048576 bytes). A backfill that rewrites every row adds an entry per row
-- to each index; VACUUM removes the old ones but never merges the half-empty pages, so the
-- walked composite index ended at 1.97x its compacted size (docs/postgres.md). The estimate:
-- entries (reltuples, fresh after the VACUUM before this) times their width (8-byte header
-- plus the columns' average widths, aligned, plus a 4-byte line pointer) over 90% full
-- pages. Deduplicated indexes come out smaller than the estimate and are left alone. Read only;
-- the runner rebuilds each index found with REINDEX INDEX CONCURRENTLY (writers go on).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- the runner runs this catalog query under lock_timeout and statement_timeout
WITH idx AS (
    SELECT
        i.indexrelid,
        i.indrelid,
        i.indkey,
        c.relname AS index_name,
        n.nspname,
        c.reltuples,
        pg_relation_size(i.indexrelid) AS bytes
    FROM pg_index AS i
    INNER JOIN pg_class AS c ON i.indexrelid = c.oid
    INNER JOIN pg_namespace AS n ON c.relnamespace = n.oid
    INNER JOIN pg_am AS am ON c.relam = am.oid
    WHERE
        i.indrelid IN (to_regclass('messages'), to_regclass('conversations'))
        AND am.amname = 'btree' AND i.indisvalid AND i.indexprs IS NULL AND i.indpred IS NULL
),

widths AS (
    SELECT
        x.indexrelid,
        sum(s.avg_width) AS width,
        bool_and(s.avg_width IS NOT NULL) AS known
    FROM idx AS x
    CROSS JOIN LATERAL unnest(x.indkey::int2 []) AS k (attnum)
    INNER JOIN pg_attribute AS a ON x.indrelid = a.attrelid AND k.attnum = a.attnum
    INNER JOIN pg_class AS t ON x.indrelid = t.oid
    INNER JOIN pg_namespace AS tn ON t.relnamespace = tn.oid
    LEFT JOIN pg_stats AS s ON tn.nspname = s.schemaname AND t.relname = s.tablename AND a.attname = s.attname
    GROUP BY x.indexrelid
),

estimated AS (
    SELECT
        x.nspname,
        x.index_name,
        x.bytes,
        (ceil(
            x.reltuples * (((8 + w.width + 7) / 8) * 8 + 4)
            / ((current_setting('block_size')::int - 40) * 0.9)
        ) + 1) * current_setting('block_size')::int AS estimate
    FROM idx AS x
    INNER JOIN widths AS w ON x.indexrelid = w.indexrelid
    WHERE w.known AND x.reltuples > 0
)

SELECT
    quote_ident(nspname) || '.' || quote_ident(index_name) AS qualified,
    index_name,
    bytes,
    estimate::bigint AS estimate
FROM estimated
WHERE bytes > estimate * /*{{max_percent}}*/ 120 / 100.0 AND bytes >= /*{{min_bytes}}*/ 1048576
ORDER BY bytes DESC;
