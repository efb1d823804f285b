"""Monitoring schedules and alert sensors as the daemon loads them: what each targets, which are on by
default, and run config valid for each tick."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from dbopt.monitoring.alerts import ALERTS
from pipelines.alert_sensors import INTERVAL_S, check_key
from pipelines.definitions import defs

ON, OFF = dg.DefaultScheduleStatus.RUNNING, dg.DefaultScheduleStatus.STOPPED
SCHEDULES = {
    "monitor_postgres_and_redis_every_5_min": ("monitor_postgres_and_redis", "*/5 * * * *", ON),
    "monitor_clickhouse_hourly": ("monitor_clickhouse", "10 * * * *", OFF),
    "monitor_drift_every_30_min": ("monitor_drift", "*/30 * * * *", OFF),
}
SENSORS_OFF = {"partition_count", "cache_hit_rate"}  # their remedies surprise when launched unasked


def test_monitoring_schedules_defaults_and_valid_run_config() -> None:
    tick = datetime(2025, 3, 4, 3, 10, tzinfo=UTC)
    for name, (job, cron, status) in SCHEDULES.items():
        schedule = defs.resolve_schedule_def(name)
        assert (schedule.job_name, schedule.cron_schedule, schedule.default_status) == (job, cron, status)
        assert schedule.execution_timezone == "UTC" and "by default" in schedule.description
        (request,) = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
        assert dg.validate_run_config(defs.resolve_job_def(job), request.run_config)
    assert all("by default" in s.description for s in defs.schedules)  # each says whether it is on, and why


def test_every_alert_is_a_check_with_a_sensor_launching_its_remedy() -> None:
    checks = {key for c in defs.asset_checks for key in c.check_keys}
    for alert in ALERTS.values():
        assert check_key(alert) in checks, alert.name
        sensor = defs.resolve_sensor_def(f"{alert.name}_sensor")
        assert sensor.minimum_interval_seconds == INTERVAL_S
        off = alert.name in SENSORS_OFF
        assert sensor.default_status == (dg.DefaultSensorStatus.STOPPED if off else dg.DefaultSensorStatus.RUNNING)
        assert ("Off by default" in sensor.description) == off
        if alert.remedy_job:
            assert [t.job_name for t in sensor.targets] == [alert.remedy_job]
            defs.resolve_job_def(alert.remedy_job)
        else:
            assert not sensor.targets and alert.no_remedy in sensor.description
