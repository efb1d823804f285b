"""One sensor per alert: it reads the alert's check results from the Dagster instance and
launches the remedy job, or says in its skip reason why it launches nothing.

Sensors never open a database or chDB: they run in the daemon's code server, which must
not hold chDB's folder (a run could then not open it). Everything they need is in the
instance: the alert checks' evaluations (value, threshold, whether a remedy applies) and
the remedy runs (tagged with the alert and its episode). The rules (episodes, run keys,
back-off) are in `dbopt/monitoring/remedies.py`.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import dagster as dg

from dbopt.monitoring import remedies
from dbopt.monitoring.alerts import ALERTS, Alert

# How often each sensor looks (seconds). The daemon's default of 30 s is more than alerts
# refreshed every few minutes need; tests and demos lower it with DBOPT_ALERT_SENSOR_INTERVAL_S.
INTERVAL_S = int(os.environ.get("DBOPT_ALERT_SENSOR_INTERVAL_S", "60"))
HISTORY = 100  # evaluations read back to find where an episode started

# Off by default: their remedy surprises when launched unasked.
STOPPED = {
    "partition_count": (
        "it launches partition_cleanup, which drops events for good (like the daily schedule, which is off too): turn "
        "it on once phase1_clickhouse has run and retention_months is reviewed"
    ),
    "cache_hit_rate": (
        "it launches warm_cache, which writes to Redis: a cold-cache benchmark (workload_benchmark) would set it off; "
        "turn it on once the services read through the cache"
    ),
}

_RUN_STATUS = {
    dg.DagsterRunStatus.QUEUED: "queued",
    dg.DagsterRunStatus.NOT_STARTED: "queued",
    dg.DagsterRunStatus.STARTING: "queued",
    dg.DagsterRunStatus.STARTED: "running",
    dg.DagsterRunStatus.CANCELING: "running",
    dg.DagsterRunStatus.SUCCESS: "success",
    dg.DagsterRunStatus.FAILURE: "failure",
    dg.DagsterRunStatus.CANCELED: "canceled",
}


def check_key(alert: Alert) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(alert.asset), alert.check)


def _evaluation(record: Any) -> remedies.Evaluation | None:
    """A finished check execution's evaluation; None for one still planned (its run has not
    reported yet, or died before it did)."""
    event = record.event.dagster_event if record.event is not None else None
    data = event.event_specific_data if event is not None else None
    if not isinstance(data, dg.AssetCheckEvaluation):
        return None
    md: dict[str, Any] = {k: v.value for k, v in data.metadata.items()}
    return remedies.Evaluation(
        id=record.id,
        run_id=record.run_id,
        at=record.event.timestamp,
        passed=bool(data.passed),
        value=md.get("value"),
        threshold=md.get("threshold"),
        remediable=bool(md.get("remediable", True)),
        not_remediable=str(md.get("not_remediable", "")),
        next_step=str(md.get("next_step", "")),
        note=str(md.get("note", "")),
    )


def evaluations(instance: dg.DagsterInstance, alert: Alert) -> tuple[remedies.Evaluation | None, int | None, int | None]:
    """The latest completed evaluation, the id of the latest passing one, and the id of the
    first failing one after that, within the last HISTORY executions of the check (newest
    first; read through the instance's event log storage, no private Dagster module)."""
    history = instance.event_log_storage.get_asset_check_execution_history(check_key(alert), limit=HISTORY)
    recent = [e for e in map(_evaluation, history) if e is not None]
    if not recent:
        return None, None, None
    last_pass = next((e.id for e in recent if e.passed), None)
    failing = [e.id for e in recent if not e.passed and (last_pass is None or e.id > last_pass)]
    return recent[0], last_pass, (min(failing) if failing else None)


def remedy_runs(instance: dg.DagsterInstance, alert: Alert, episode: int) -> list[remedies.RemedyRun]:
    """The runs launched for this alert's episode, newest first."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={remedies.TAG_ALERT: alert.name, remedies.TAG_EPISODE: str(episode)}), limit=50
    )
    return [
        remedies.RemedyRun(
            run_id=r.dagster_run.run_id,
            status=_RUN_STATUS.get(r.dagster_run.status, "running"),
            created_at=r.create_timestamp.timestamp(),
            ended_at=r.end_time,
        )
        for r in sorted(records, key=lambda r: r.storage_id, reverse=True)
    ]


def tick(context: dg.SensorEvaluationContext, alert: Alert, policy: remedies.Policy) -> dg.SensorResult:
    state = json.loads(context.cursor) if context.cursor else {}
    latest, last_pass, first_failure = evaluations(context.instance, alert)
    episode = None
    if latest is not None and not latest.passed:
        episode = remedies.episode(state, last_pass, first_failure, latest)
    runs = remedy_runs(context.instance, alert, episode) if episode is not None and alert.remedy_job else []
    decision = remedies.decide(alert, latest, episode_id=episode, runs=runs, state=state, now=time.time(),
                               policy=policy)
    cursor = json.dumps(decision.state, sort_keys=True)
    if decision.launch is None:
        return dg.SensorResult(skip_reason=decision.reason, cursor=cursor)
    context.log.info(decision.reason)
    launch = decision.launch
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=launch.run_key, job_name=launch.job_name, tags=launch.tags)],
        cursor=cursor,
    )


def alert_sensor(alert: Alert, policy: remedies.Policy | None = None) -> dg.SensorDefinition:
    policy = policy or remedies.Policy()
    stopped = STOPPED.get(alert.name)
    launches = (
        f"launches {alert.remedy_job} (tagged dbopt/alert={alert.name}), at most once per alert episode and attempt; "
        f"after a failure it backs off {policy.backoff_s / 60:g} min, doubling, and stops after "
        f"{policy.max_attempts} failures"
        if alert.remedy_job else f"launches nothing: {alert.no_remedy}"
    )
    description = (
        f"When check {alert.check} on {alert.asset} fails ({alert.plan} {alert.fires} {alert.threshold:g}{alert.unit} "
        f"by default), {launches}. Reads only the Dagster instance. "
        + (f"Off by default: {stopped}." if stopped else "On by default.")
    )

    @dg.sensor(
        name=f"{alert.name}_sensor",
        job_name=alert.remedy_job,
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.STOPPED if stopped else dg.DefaultSensorStatus.RUNNING,
        description=description,
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return tick(context, alert, policy)

    return _sensor


def alert_sensors(available_jobs: set[str]) -> list[dg.SensorDefinition]:
    """A sensor per alert whose remedy job exists in the code location (or that has none)."""
    return [alert_sensor(a) for a in ALERTS.values() if a.remedy_job is None or a.remedy_job in available_jobs]
