"""Schedules: partition cleanup, monitoring, candidate refresh (see docs/runbook.md)."""

from __future__ import annotations

import dagster as dg

SCHEDULES: list[dg.ScheduleDefinition] = []

# --- ClickHouse (issue 4) ---------------------------------------------------------------------


@dg.schedule(
    name="partition_cleanup_daily",
    cron_schedule="15 3 * * *",
    job_name="partition_cleanup",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def partition_cleanup_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Daily at 03:15 UTC, retention measured from the tick's time. Off by default: it drops events for
    good, so turn it on once phase1_clickhouse has run and retention_months is reviewed."""
    now = context.scheduled_execution_time.isoformat()
    return dg.RunRequest(run_config={"ops": {"partition_maintenance": {"config": {"now": now}}}})


@dg.schedule(
    name="refresh_feed_candidates_hourly",
    cron_schedule="5 * * * *",
    job_name="refresh_feed_candidates",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def refresh_feed_candidates_hourly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Hourly, for as_of = the tick's time (reproducible). Off by default: the tables exist only after
    phase1_clickhouse, and with embedded chDB each run holds the data folder while it builds."""
    as_of = context.scheduled_execution_time.replace(second=0, microsecond=0).isoformat()
    return dg.RunRequest(run_config={"ops": {"feed_candidates": {"config": {"as_of": as_of}}}})


SCHEDULES += [partition_cleanup_daily, refresh_feed_candidates_hourly]
