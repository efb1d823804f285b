"""Schedules: partition cleanup, monitoring, candidate refresh (defaults, and why: docs/operations.md)."""

from __future__ import annotations

import dagster as dg

SCHEDULES: list[dg.ScheduleDefinition] = []

# --- ClickHouse (issue 4) ---------------------------------------------------------------------


def _tick_to_config(name: str, cron: str, job: str, op: str, field: str, description: str, *,
                    whole_minute: bool = False) -> dg.ScheduleDefinition:
    """A UTC schedule, off by default, that gives `op` its tick's time (ISO 8601) as config `field`;
    `whole_minute` drops the seconds."""

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        job_name=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=description,
    )
    def schedule(context) -> dg.RunRequest:
        at = context.scheduled_execution_time
        if whole_minute:
            at = at.replace(second=0, microsecond=0)
        return dg.RunRequest(run_config={"ops": {op: {"config": {field: at.isoformat()}}}})

    return schedule


partition_cleanup_daily = _tick_to_config(
    "partition_cleanup_daily", "15 3 * * *", "partition_cleanup", "partition_maintenance", "now",
    "Daily at 03:15 UTC, retention measured from the tick's time. Off by default: it drops events for good, so "
    "turn it on once phase1_clickhouse has run and retention_months is reviewed.",
)
refresh_feed_candidates_hourly = _tick_to_config(
    "refresh_feed_candidates_hourly", "5 * * * *", "refresh_feed_candidates", "feed_candidates", "as_of",
    "Hourly, for as_of = the tick's time (reproducible). Off by default: the tables exist only after "
    "phase1_clickhouse, and with embedded chDB each run holds the data folder while it builds.",
    whole_minute=True,
)


SCHEDULES += [partition_cleanup_daily, refresh_feed_candidates_hourly]

# --- Monitoring (issue 6) ---------------------------------------------------------------------
# Monitoring runs take no config: each asset measures over the interval since its previous sample.


def _monitoring(name: str, cron: str, job: str, on: bool, description: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=cron,
        job_name=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED,
        description=description,
    )


SCHEDULES += [
    _monitoring(
        "monitor_postgres_and_redis_every_5_min", "*/5 * * * *", "monitor_postgres_and_redis", True,
        "Every 5 minutes: query latency p99, connections, cache hit rate, each over the 5 minutes since the previous "
        "sample. On by default: it reads catalog views and Redis INFO only (no lock, no application table).",
    ),
    _monitoring(
        "monitor_clickhouse_hourly", "10 * * * *", "monitor_clickhouse", False,
        "Hourly (partitions change by the month, so more often tells nothing new). Off by default: with chDB every "
        "run holds the data folder, and a `dagster job execute` or `dbopt` command on it meanwhile would fail; turn "
        "it on with a ClickHouse server, or when only Dagster runs use the folder.",
    ),
    _monitoring(
        "monitor_drift_every_30_min", "*/30 * * * *", "monitor_drift", False,
        "Every 30 minutes, a sample of 2,000 conversations (plus the largest) and the index catalog. Off by default: "
        "unlike the other monitoring it reads application tables (a few index lookups per sampled conversation), "
        "and before Phase 1 it has nothing to sample; turn it on after phase1_postgres.",
    ),
]
