"""deploy/dagster.yaml, as shipped, on a real PostgreSQL: the instance the team's webserver and
daemon load. The daemon running against it is tested in test_daemon_e2e.py."""

from __future__ import annotations

import dagster as dg
import psycopg
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from dbopt.paths import REPO_ROOT

# What runs, events, schedules, sensor ticks and pools need.
TABLES = {"runs", "run_tags", "event_logs", "asset_keys", "asset_check_executions", "jobs", "job_ticks",
          "instigators", "concurrency_limits", "concurrency_slots", "pending_steps", "daemon_heartbeats",
          "alembic_version"}


@dg.op(pool="postgres_ddl")
def pooled_step() -> int:
    return 1


@dg.job(tags={"dbopt/system": "postgres"})
def tiny_job() -> None:
    pooled_step()


def test_team_instance_stores_everything_in_postgres(team_home) -> None:
    assert "DAGSTER_PG_URL" in (REPO_ROOT / "deploy" / "dagster.yaml").read_text()  # the URL stays in the environment
    with team_home.instance() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert instance.get_settings("telemetry") == {"enabled": False}

        with psycopg.connect(team_home.pg_url) as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables >= TABLES, TABLES - tables

        # The queued coordinator: one run per database system at a time, ten in all.
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 10
        assert config.run_queue_config.tag_concurrency_limits == [
            {"key": "dbopt/system", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        # Pools: one op at a time per pool until raised, per op.
        assert config.pool_config.default_pool_limit == 1
        assert config.pool_config.pool_granularity.value == "op"
        for pool in ("postgres_ddl", "postgres_backfill", "clickhouse"):
            info = instance.event_log_storage.get_concurrency_info(pool)
            assert info.limit == 1 and info.using_default_limit, info
        instance.event_log_storage.set_concurrency_slots("postgres_backfill", 4)  # what `dagster instance concurrency set` does
        assert instance.event_log_storage.get_concurrency_info("postgres_backfill").slot_count == 4

        # Runs that die are retried twice; a failed check or step is not.
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_retries_retry_on_asset_or_op_failure is False

        # A run, its events and its pool slot go through PostgreSQL.
        result = tiny_job.execute_in_process(instance=instance)
        assert result.success
    with team_home.instance() as again:  # another process (the webserver, the daemon) reads the same
        record = again.get_run_record_by_id(result.run_id)
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        assert record.dagster_run.tags["dbopt/system"] == "postgres"
        assert any(e.dagster_event and e.dagster_event.event_type_value == "STEP_SUCCESS"
                   for e in again.all_logs(result.run_id))
        assert again.event_log_storage.get_concurrency_info("postgres_ddl").claimed_slots == []


def test_local_instance_template(tmp_path) -> None:
    """deploy/dagster.local.yaml (dbopt ui, make demo): SQLite, pools and run limits for chDB."""
    (tmp_path / "dagster.yaml").write_text((REPO_ROOT / "deploy" / "dagster.local.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1
        assert config.run_queue_config.max_concurrent_runs == 4
        assert config.run_queue_config.tag_concurrency_limits[0]["key"] == "dbopt/system"
        assert not instance.run_retries_enabled
        assert instance.get_settings("telemetry") == {"enabled": False}
