"""What an alert's sensor does on a tick: launch the remedy, wait, back off, or say why not.

Plain data in, a decision out, so the rules are stated (and tested) once, apart from how
the sensor reads Dagster's instance:

- **Episode.** An alert fires from its first failing evaluation after a passing one until
  it passes again; that first failing evaluation's storage id names the episode. Every
  failing evaluation of one episode is "the same alert": monitoring every few minutes
  does not launch the remedy again while it runs, nor after it.
- **Run key.** `<alert>:<episode>:<attempt>`: one run per attempt, never two (the daemon
  also drops a request whose run key already ran for the sensor).
- **After a success.** The remedy is not launched again in the same episode. If the alert
  is evaluated again after the remedy finished and still fires, the remedy was not enough:
  the skip reason says so and what to look at, instead of relaunching in a loop.
- **After a failure (or a cancel).** Back off: the next attempt waits `base_s`, then twice
  that, ...; after `max_attempts` failures in a row nothing more is launched for the
  episode, and the skip reason says which run failed and to launch the job by hand once
  the cause is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dbopt.monitoring.alerts import Alert

TAG_ALERT = "dbopt/alert"
TAG_EPISODE = "dbopt/alert-episode"
TAG_ATTEMPT = "dbopt/alert-attempt"

IN_PROGRESS = ("queued", "running")
FAILED = ("failure", "canceled")


@dataclass(frozen=True)
class Evaluation:
    """One completed evaluation of an alert's check."""

    id: int  # storage id in Dagster's event log: increases with time
    run_id: str
    at: float  # epoch seconds
    passed: bool
    value: float | None
    threshold: float | None
    remediable: bool = True  # False: this firing has no automatic remedy (see not_remediable)
    not_remediable: str = ""
    next_step: str = ""
    note: str = ""  # why a value could not be measured


@dataclass(frozen=True)
class RemedyRun:
    run_id: str
    status: str  # queued | running | success | failure | canceled
    created_at: float
    ended_at: float | None = None


@dataclass(frozen=True)
class Policy:
    backoff_s: float = 600.0  # wait after the first failure; doubles after each further one
    max_attempts: int = 3
    launch_timeout_s: float = 900.0  # ask again if a requested run never appeared


@dataclass(frozen=True)
class Launch:
    job_name: str
    run_key: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Decision:
    launch: Launch | None
    reason: str
    state: dict[str, Any] = field(default_factory=dict)  # the sensor's cursor for the next tick


def when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def episode(state: dict[str, Any], last_pass_id: int | None, first_failure_after_pass: int | None,
            latest: Evaluation) -> int:
    """The id of the episode the failing `latest` evaluation belongs to."""
    kept = state.get("episode")
    if kept is not None and (last_pass_id is None or kept > last_pass_id) and kept <= latest.id:
        return int(kept)
    return first_failure_after_pass if first_failure_after_pass is not None else latest.id


def decide(
    alert: Alert,
    latest: Evaluation | None,
    *,
    episode_id: int | None,
    runs: list[RemedyRun],
    state: dict[str, Any],
    now: float,
    policy: Policy | None = None,
) -> Decision:
    """`runs`: the remedy runs launched for this episode, newest first."""
    policy = policy or Policy()
    if latest is None:
        return Decision(None, f"{alert.plan}: not evaluated yet; materialize {alert.asset} (its monitoring job or "
                              f"schedule) to evaluate check {alert.check}.")
    seen = f"evaluated {when(latest.at)} in run {latest.run_id[:8]}"
    what = alert.describe(latest.value, latest.threshold)
    if latest.passed and latest.value is None:
        return Decision(None, f"Not judged: {alert.plan} was not measured ({latest.note or 'no figure'}), {seen}.")
    if latest.passed:
        return Decision(None, f"OK: {what}, {seen}.")
    firing = f"Firing: {what}, {seen}"
    if alert.remedy_job is None:
        return Decision(None, f"{firing}; nothing launched: {alert.no_remedy}.", {"episode": episode_id})
    if not latest.remediable:
        return Decision(None, f"{firing}; nothing launched: {latest.not_remediable}", {"episode": episode_id})
    job = alert.remedy_job
    kept = state if state.get("episode") == episode_id else {"episode": episode_id}
    if runs and runs[0].status in IN_PROGRESS:
        return Decision(None, f"{firing}; its remedy {job} (run {runs[0].run_id[:8]}) is {runs[0].status}.", kept)
    if runs and runs[0].status == "success":
        last = runs[0]
        if last.ended_at is not None and latest.at > last.ended_at:
            step = f" {latest.next_step}" if latest.next_step else ""
            return Decision(None, (
                f"{firing}; its remedy {job} (run {last.run_id[:8]}) succeeded at {when(last.ended_at)} and the alert "
                f"still fires after it, so it is not launched again for this alert: the remedy is not enough here and "
                f"needs a person.{step}"
            ), kept)
        return Decision(None, (
            f"{firing}; its remedy {job} (run {last.run_id[:8]}) succeeded at {when(last.ended_at)}; waiting for "
            f"the next evaluation to confirm the alert cleared."
        ), kept)
    failures = 0
    for run in runs:
        if run.status not in FAILED:
            break
        failures += 1
    if failures >= policy.max_attempts:
        return Decision(None, (
            f"{firing}; its remedy {job} failed {failures} times in a row (last: run {runs[0].run_id[:8]}, "
            f"{runs[0].status} at {when(runs[0].ended_at)}), so it is not launched again for this alert (back-off "
            f"exhausted): read that run's error, fix the cause, then launch {job} by hand."
        ), kept)
    if failures:
        wait = policy.backoff_s * 2 ** (failures - 1)
        until = (runs[0].ended_at or runs[0].created_at) + wait
        if now < until:
            return Decision(None, (
                f"{firing}; its remedy {job} (run {runs[0].run_id[:8]}) {runs[0].status.replace('failure', 'failed')} "
                f"at {when(runs[0].ended_at)}; backing off: attempt {failures + 1} of {policy.max_attempts} not "
                f"before {when(until)}."
            ), kept)
    attempt = len(runs) + 1
    run_key = f"{alert.name}:{episode_id}:{attempt}"
    if kept.get("attempt") == attempt and now - float(kept.get("requested_at", 0)) < policy.launch_timeout_s:
        return Decision(None, (
            f"{firing}; its remedy {job} was already requested (run key {run_key}) at "
            f"{when(kept.get('requested_at'))}; not requesting it twice."
        ), kept)
    tags = {
        TAG_ALERT: alert.name,
        TAG_EPISODE: str(episode_id),
        TAG_ATTEMPT: str(attempt),
        "dbopt/alert-value": "-" if latest.value is None else f"{latest.value:.6g}",
        "dbopt/alert-threshold": "-" if latest.threshold is None else f"{latest.threshold:.6g}",
        "dbopt/alert-evaluation-run": latest.run_id,
    }
    reason = f"{firing}; launching {job} (attempt {attempt} of {policy.max_attempts}, run key {run_key})."
    return Decision(Launch(job, run_key, tags), reason, {"episode": episode_id, "attempt": attempt, "requested_at": now})
