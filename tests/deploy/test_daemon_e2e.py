"""The team deployment end to end: `dagster-daemon run` on deploy/dagster.yaml with its storage
in PostgreSQL (dagster-postgres), the code location loaded from workspace.yaml, real databases.

A ClickHouse table (chDB, a folder of this test's own) is pushed past the plan's 36 partitions;
the partition sensor is started as an operator would (`dagster sensor start`: it is off by
default) and one monitor_clickhouse run is queued (`dagster job launch`). From there nobody
touches anything: the run's check fires, the daemon ticks the sensor, the sensor requests
partition_cleanup, the queued run coordinator launches it, and it brings the table back under
the threshold.

chDB allows one process per folder: this test process never opens the folder (a subprocess
pushes and counts the partitions, before and after the daemon), and the daemon's runs are
processes of their own that open it one at a time (pool clickhouse).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from dbopt.devserver import stop_process_group
from dbopt.paths import REPO_ROOT

BIN = Path(sys.executable).parent
WORKSPACE = str(REPO_ROOT / "workspace.yaml")
SENSOR = "partition_count_sensor"
DEADLINE_S = 150


def _restore_sigint() -> None:  # pytest may run with SIGINT ignored; the daemon must stop on it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_restore_sigint)


def _finish(proc: subprocess.Popen, log: Path, what: str) -> str:
    assert proc.wait(timeout=120) == 0, f"{what} failed:\n{log.read_text()[-3000:]}"
    return log.read_text()


def _partitions(ch_url: str, env: dict[str, str], tmp_path: Path, months: int | None = None) -> int:
    argv = [sys.executable, "-m", "tests.monitoring.clickhouse_state", ch_url, *([str(months)] if months else [])]
    log = tmp_path / "clickhouse_state.log"
    out = _finish(_start(argv, env, log), log, "clickhouse_state")
    return int(out.strip().splitlines()[-1])


def _failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.message for e in instance.all_logs(run_id) if e.dagster_event and e.dagster_event.is_failure]


def _sensor_ticks(instance: dg.DagsterInstance) -> list:
    # Sensor and schedule names are unique in the code location: the name alone finds the sensor.
    (state,) = [s for s in instance.all_instigator_state() if s.instigator_name == SENSOR]
    assert state.status.value == "RUNNING"
    return instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=200)  # newest first


def _check(instance: dg.DagsterInstance, run_id: str, name: str):
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        data = entry.dagster_event.event_specific_data
        if data.check_name == name:
            return data.passed, {k: v.value for k, v in data.metadata.items()}
    raise AssertionError(f"check {name} not evaluated in run {run_id}")


def test_daemon_turns_the_partition_alert_into_partition_cleanup(team_home, pg_url, embedded_redis, tmp_path) -> None:
    ch_url = f"chdb://{tmp_path / 'clickhouse'}?database=feed"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(team_home.home),
        "DAGSTER_PG_URL": team_home.dagster_pg_url,
        "DATABASE_URL": pg_url,
        "CLICKHOUSE_URL": ch_url,
        "REDIS_URL": embedded_redis.url(),
        "DBOPT_HOME": str(tmp_path / "data"),
        "DBOPT_ALERT_SENSOR_INTERVAL_S": "2",
    }
    # At once: the table pushed past the alert, the sensor turned on, one monitoring run queued.
    logs = {name: tmp_path / f"{name}.log" for name in ("push", "sensor_start", "launch", "daemon")}
    push = _start([sys.executable, "-m", "tests.monitoring.clickhouse_state", ch_url, "40"], env, logs["push"])
    sensor_start = _start([str(BIN / "dagster"), "sensor", "start", "-w", WORKSPACE, SENSOR], env, logs["sensor_start"])
    launch = _start([str(BIN / "dagster"), "job", "launch", "-w", WORKSPACE, "-j", "monitor_clickhouse"], env,
                    logs["launch"])
    assert _finish(push, logs["push"], "pushing partitions").split()[-1] == "40"
    assert f"Started sensor {SENSOR}" in _finish(sensor_start, logs["sensor_start"], "dagster sensor start")
    _finish(launch, logs["launch"], "dagster job launch")

    daemon = _start([str(BIN / "dagster-daemon"), "run", "-w", WORKSPACE], env, logs["daemon"])
    started, t0 = time.monotonic(), time.time()
    try:
        with team_home.instance() as instance:
            cleanup = None
            while cleanup is None:
                assert daemon.poll() is None, f"the daemon exited:\n{logs['daemon'].read_text()[-3000:]}"
                assert time.monotonic() - started < DEADLINE_S, (
                    f"no successful partition_cleanup in {DEADLINE_S} s; runs: "
                    f"{[(r.dagster_run.job_name, r.dagster_run.status.value) for r in instance.get_run_records()]}\n"
                    f"{logs['daemon'].read_text()[-3000:]}"
                )
                for record in instance.get_run_records():
                    run = record.dagster_run
                    assert run.status not in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED), (
                        f"{run.job_name} {run.status.value}: {_failures(instance, run.run_id)}"
                    )
                    if run.job_name == "partition_cleanup" and run.status == dg.DagsterRunStatus.SUCCESS:
                        cleanup = run
                time.sleep(1)

            # The monitoring run's alert fired with its value and threshold...
            (monitor,) = instance.get_runs(dg.RunsFilter(job_name="monitor_clickhouse"))
            passed, md = _check(instance, monitor.run_id, "partition_count_alert")
            assert not passed and md["value"] == 40 and md["threshold"] == 36, md
            # ...and the sensor launched the remedy by itself, tagged with the alert and its run key.
            tags = cleanup.tags
            assert tags["dagster/sensor_name"] == SENSOR and tags["dbopt/alert"] == "partition_count"
            assert tags["dagster/run_key"] == f"partition_count:{tags['dbopt/alert-episode']}:1"
            assert tags["dbopt/alert-value"] == "40" and tags["dbopt/alert-evaluation-run"] == monitor.run_id
            passed, md = _check(instance, cleanup.run_id, "partitions_within_alert")
            assert passed, md

            # The sensor goes on ticking and launches nothing more for this alert.
            while True:
                ticks = _sensor_ticks(instance)
                if "succeeded" in (ticks[0].skip_reason or ""):
                    break
                assert time.monotonic() - started < DEADLINE_S + 30, [t.skip_reason for t in ticks[:3]]
                time.sleep(1)
            (request,) = [t for t in ticks if t.run_ids]
            assert request.run_ids == [cleanup.run_id]
            assert len(instance.get_runs(dg.RunsFilter(job_name="partition_cleanup"))) == 1
            evaluated = instance.get_run_record_by_id(monitor.run_id).end_time
            done = instance.get_run_record_by_id(cleanup.run_id)
            timeline = (f"monitor_clickhouse ended +{evaluated - t0:.1f} s, sensor requested partition_cleanup "
                        f"+{request.timestamp - t0:.1f} s, it started +{done.start_time - t0:.1f} s and succeeded "
                        f"+{done.end_time - t0:.1f} s (t0: the daemon started)")
    finally:
        stop_process_group(daemon, timeout=60)
    assert daemon.returncode == 0, f"the daemon did not stop cleanly on SIGINT:\n{logs['daemon'].read_text()[-3000:]}"
    assert _partitions(ch_url, env, tmp_path) == 25  # 24 months of retention and the current one: under 36
    print(timeline)
