"""The jobs of the contract (BASELINE.md) and the operations around them.

Rollout jobs select asset groups, so a step added to a phase is part of its job. Every
job runs in one process (`in_process_executor`): steps of a rollout are sequential by
nature, a crash or SIGKILL leaves no orphaned step process still writing, and chDB's
one-process-per-folder rule holds within a run. Pools serialize across runs.
"""

from __future__ import annotations

import dagster as dg

from pipelines.executors import executor_for_ranges
from pipelines.remedies import REMEDY_JOBS
from pipelines.rollback_clickhouse import rollback_phase1_clickhouse
from pipelines.rollback_postgres import rollback_phase1_postgres

# --- Phase 1.1, PostgreSQL ------------------------------------------------------------------

phase1_postgres = dg.define_asset_job(
    name="phase1_postgres",
    # The *_by_range assets are the optional partitioned form of the backfills.
    # The preflight first: its blocking checks stop the run before postgres_baseline on a no-go;
    # then the plan (read-only), whose receipt phase1_postgres_contract shows at the end.
    selection=(dg.AssetSelection.groups("phase1_postgres") - dg.AssetSelection.tag("dbopt/parallel", "by_range"))
    | dg.AssetSelection.assets("postgres_preflight", "postgres_plan"),
    executor_def=dg.in_process_executor,
    description=(
        "The whole PostgreSQL part of Phase 1 (plan 1.1), online, after a read-only preflight whose no-go stops it "
        "before any change and postgres_plan (each step's lock, rows, duration and disk, calibrated here): composite "
        "indexes, sequence numbers, conversation counters and full-text search, each step followed by blocking "
        "checks; ends with the plan's receipt (predicted against actual) on phase1_postgres_contract. Idempotent and "
        "resumable: rerun it after any failure or crash."
    ),
    tags={"dbopt/phase": "1", "dbopt/system": "postgres"},
)

preflight_postgres = dg.define_asset_job(
    name="preflight_postgres",
    selection=dg.AssetSelection.assets("postgres_preflight", "postgres_plan"),
    executor_def=dg.in_process_executor,
    description=(
        "The PostgreSQL preflight and plan on their own, read-only: will phase1_postgres work on DATABASE_URL right "
        "now (version, privileges, visibility, transaction pooler, idle-in-transaction locks, long transactions, "
        "replicas, autovacuum, connection headroom)? And per step: its lock, rows, predicted duration and disk "
        "(postgres_plan, calibrated on a rolled-back sample). Same findings and plan as `dbopt plan`."
    ),
    # No rollout tag: a preflight may run beside a rollout run, it takes no lock.
    tags={"dbopt/phase": "1"},
)

# --- Scale-out: the backfills as 16 key ranges, one run each (docs/postgres.md, "Scale-out") ---

phase1_postgres_triggers = dg.define_asset_job(
    name="phase1_postgres_triggers",
    selection=dg.AssetSelection.assets(
        "postgres_preflight", "postgres_baseline", "query_indexes", "sequence_number_trigger",
        "conversation_counters_triggers", "content_tsv_trigger",
    ),
    executor_def=dg.in_process_executor,
    description=(
        "The first part of phase1_postgres on its own: preflight, baseline, composite indexes and the three "
        "triggers, so that from here every new row is kept right. Run it before launching backfill_by_range; "
        "phase1_postgres afterwards skips what it applied."
    ),
    tags={"dbopt/phase": "1", "dbopt/system": "postgres"},
)

backfill_by_range = dg.define_asset_job(
    name="backfill_by_range",
    selection=dg.AssetSelection.tag("dbopt/parallel", "by_range"),
    executor_def=executor_for_ranges(),
    description=(
        "The three Phase 1.1 backfills for one of 16 key ranges (a partition). Launch a backfill of all 16 "
        "(`dagster job backfill -j backfill_by_range --all ALL`, or the UI) after phase1_postgres_triggers: "
        "with the queued run coordinator, runs wait in the queue and the postgres_backfill pool caps how many "
        "range steps run at once (`dagster instance concurrency set postgres_backfill 4`). Then run "
        "phase1_postgres: it skips every range done here and applies the constraints and the GIN index."
    ),
    # No dbopt/system tag: range runs are meant to run side by side (they share the rollout lock).
    tags={"dbopt/phase": "1"},
)

JOBS: list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition] = [
    phase1_postgres, rollback_phase1_postgres, preflight_postgres, phase1_postgres_triggers, backfill_by_range,
]

# --- Phase 1.2, ClickHouse ----------------------------------------------------------

phase1_clickhouse = dg.define_asset_job(
    name="phase1_clickhouse",
    # The preflight and the plan run first; the preflight's blocking checks stop the run on a no-go.
    selection=dg.AssetSelection.groups("phase1_clickhouse") | dg.AssetSelection.assets("clickhouse_preflight",
                                                                                       "clickhouse_plan"),
    executor_def=dg.in_process_executor,
    description=(
        "The whole ClickHouse part of Phase 1 (plan 1.2), with no event lost: CDC tables partitioned by month (copied "
        "beside the live ones, swapped with EXCHANGE TABLES, old ones kept as backups), the post_metrics_1h and "
        "user_author_90d rollups, and the feed candidate tables; blocking checks between the steps. Starts with "
        "clickhouse_preflight (a no-go stops the run before any change) and clickhouse_plan, ends with "
        "clickhouse_receipt (predicted against actual). Idempotent and resumable: rerun it after any failure or crash."
    ),
    tags={"dbopt/phase": "1", "dbopt/system": "clickhouse"},
)
partition_cleanup = dg.define_asset_job(
    name="partition_cleanup",
    selection=dg.AssetSelection.assets("partition_maintenance"),
    executor_def=dg.in_process_executor,
    description=(
        "Drops ClickHouse partitions past their retention (retention_months per table; posts and follows keep the "
        "state of live keys); dry_run lists what would go. Ends with the plan's partition-count alert as a check."
    ),
    tags={"dbopt/system": "clickhouse"},
)
refresh_feed_candidates = dg.define_asset_job(
    name="refresh_feed_candidates",
    selection=dg.AssetSelection.assets(
        "feed_candidates_followees", "feed_candidates_trending", "feed_candidates_affinity"
    ),
    executor_def=dg.in_process_executor,
    description="Rebuilds the feed candidate tables for an as_of (staging table, checks, EXCHANGE TABLES).",
    tags={"dbopt/system": "clickhouse"},
)

JOBS += [phase1_clickhouse, rollback_phase1_clickhouse, partition_cleanup, refresh_feed_candidates]

# --- Monitoring and alert-driven remedies (issue 6) -----------------------------------------
# Monitoring runs share one tag value, so one runs at a time and none waits behind a rollout
# run (which holds "postgres" or "clickhouse"); ClickHouse steps still take pool clickhouse.

MONITORING_TAGS = {"dbopt/system": "monitoring"}
monitor_postgres_and_redis = dg.define_asset_job(
    name="monitor_postgres_and_redis",
    selection=dg.AssetSelection.assets("postgres_query_performance", "postgres_connections", "redis_cache_hit_rate"),
    executor_def=dg.in_process_executor,
    description=(
        "The plan's monitoring of PostgreSQL and Redis (query performance with an estimated p99, connections against "
        "max_connections, cache hit rate over the last interval) and its alerts as checks. Read-only."
    ),
    tags=MONITORING_TAGS,
)
monitor_clickhouse = dg.define_asset_job(
    name="monitor_clickhouse",
    selection=dg.AssetSelection.assets("clickhouse_partitions"),
    executor_def=dg.in_process_executor,
    description="ClickHouse partitions per table with rows and bytes, and the plan's partition alert (> 36). Read-only.",
    tags=MONITORING_TAGS,
)
monitor_drift = dg.define_asset_job(
    name="monitor_drift",
    selection=dg.AssetSelection.assets("postgres_drift"),
    executor_def=dg.in_process_executor,
    description=(
        "Samples conversation counters and sequence numbers for drift after Phase 1 and lists INVALID indexes; the "
        "drift alerts as checks. Read-only."
    ),
    tags=MONITORING_TAGS,
)

JOBS += [monitor_postgres_and_redis, monitor_clickhouse, monitor_drift, *REMEDY_JOBS]

# --- The plan's promises, measured (issue 5) ----------------------------------------------

workload_benchmark = dg.define_asset_job(
    name="workload_benchmark",
    selection=dg.AssetSelection.groups("workload_benchmark", "phase2_queries", "phase3_pagination")
    | dg.AssetSelection.assets("query_cache_benchmark"),
    executor_def=dg.in_process_executor,
    description=(
        "Measures the plan's Load Testing Targets on the live databases: the old and new query patterns of each "
        "phase that the databases' state allows (before Phase 1, the old code only), p50/p95/p99 and queries per "
        "second with bounded concurrency, the new code's answers compared with the old code's, and the Success "
        "Criteria as checks. Leaves the application's data as it found it (sends are rolled back, never into a "
        "strict_e2e conversation; every statement under statement_timeout_s). Run it before Phase 1 and after: the "
        "report pairs the two into the plan's table (<data folder>/reports/workload_benchmark.md)."
    ),
    tags={"dbopt/system": "postgres"},
)
warm_cache = dg.define_asset_job(
    name="warm_cache",
    # redis_preflight first: its blocking checks stop the warm before a key is written (issue 15).
    selection=dg.AssetSelection.assets("redis_preflight", "query_cache_warmup"),
    executor_def=dg.in_process_executor,
    description=(
        "Warms the Phase 4 cache with the hottest conversations, their first history page and the newest posts "
        "(the plan's TTLs); the remedy when the cache hit rate drops below 70%. Starts with redis_preflight: a no-go "
        "(e.g. maxmemory too small with noeviction) stops it before any key is written."
    ),
    tags={"dbopt/system": "redis"},
)

JOBS += [workload_benchmark, warm_cache]
