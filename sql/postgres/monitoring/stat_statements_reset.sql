-- When pg_stat_statements was last reset (PostgreSQL 14 and newer): counters start over then.
SELECT stats_reset::text AS stats_reset FROM pg_stat_statements_info;
