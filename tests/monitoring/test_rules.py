"""The rules an alert sensor follows, and the p99 estimate, on plain data (no server involved)."""

from __future__ import annotations

import random

from dbopt.monitoring import latency, remedies
from dbopt.monitoring.alerts import PARTITION_COUNT, SEQUENCE_DRIFT

POLICY = remedies.Policy(backoff_s=600, max_attempts=3)
NOW = 1_800_000_000.0


def firing(id_: int = 10, at: float = NOW - 60, **kw) -> remedies.Evaluation:
    return remedies.Evaluation(id=id_, run_id=f"eval{id_:04d}-run", at=at, passed=False, value=40, threshold=36, **kw)


def run(n: int, status: str, ended: float | None = NOW - 30) -> remedies.RemedyRun:
    return remedies.RemedyRun(run_id=f"remedy{n:02d}-run", status=status, created_at=NOW - 300, ended_at=ended)


def decide(latest, runs=(), state=None, now=NOW):
    return remedies.decide(PARTITION_COUNT, latest, episode_id=7, runs=list(runs), state=state or {}, now=now,
                           policy=POLICY)


def test_back_off_doubles_and_then_relaunches_with_the_next_attempts_run_key() -> None:
    one = [run(1, "failure", ended=NOW - 30)]
    assert "backing off" in decide(firing(), one).reason  # 600 s after the first failure
    later = decide(firing(), one, now=NOW + 600)
    assert later.launch is not None and later.launch.run_key == "partition_count:7:2"
    assert later.launch.tags[remedies.TAG_ATTEMPT] == "2"
    two = [run(2, "failure", ended=NOW - 30), *one]
    assert "not before" in decide(firing(), two, now=NOW + 900).reason  # 1200 s after the second
    assert decide(firing(), two, now=NOW + 1200).launch.run_key == "partition_count:7:3"


def test_after_max_attempts_nothing_more_is_launched() -> None:
    three = [run(3, "failure"), run(2, "canceled"), run(1, "failure")]
    decision = decide(firing(), three, now=NOW + 10**6)
    assert decision.launch is None
    assert "failed 3 times in a row" in decision.reason and "launch partition_cleanup by hand" in decision.reason


def test_a_remedy_that_succeeded_is_not_relaunched_while_the_alert_still_fires() -> None:
    done = [run(1, "success", ended=NOW - 120)]
    assert "waiting for the next evaluation" in decide(firing(at=NOW - 180), done).reason
    still = decide(firing(id_=11, at=NOW - 60, next_step="Lower retention_months."), done, now=NOW + 10**6)
    assert still.launch is None
    assert "still fires after it" in still.reason and "needs a person" in still.reason
    assert "Lower retention_months." in still.reason


def test_a_running_remedy_is_waited_for_and_a_request_is_not_repeated() -> None:
    assert "is running" in decide(firing(), [run(1, "running", ended=None)]).reason
    first = decide(firing())
    assert first.launch is not None
    again = decide(firing(id_=12), state=first.state, now=NOW + 60)
    assert again.launch is None and "already requested" in again.reason
    # A request the daemon never turned into a run is asked for again, under the same run key.
    late = decide(firing(id_=13), state=first.state, now=NOW + POLICY.launch_timeout_s + 1)
    assert late.launch is not None and late.launch.run_key == first.launch.run_key


def test_episodes_start_at_the_first_failure_after_a_pass() -> None:
    latest = firing(id_=30)
    assert remedies.episode({}, last_pass_id=20, first_failure_after_pass=21, latest=latest) == 21
    assert remedies.episode({"episode": 21}, last_pass_id=20, first_failure_after_pass=25, latest=latest) == 21
    # a pass after the kept episode ends it
    assert remedies.episode({"episode": 15}, last_pass_id=20, first_failure_after_pass=21, latest=latest) == 21


def test_a_firing_without_a_remedy_says_why() -> None:
    latest = firing(remediable=False, not_remediable="only numbers used twice were found.")
    decision = remedies.decide(SEQUENCE_DRIFT, latest, episode_id=3, runs=[], state={}, now=NOW)
    assert decision.launch is None and "only numbers used twice" in decision.reason


def _stmt(key: str, times: list[float]) -> latency.Statement:
    return latency.Statement(key, len(times), sum(times), sum(t * t for t in times), min(times), max(times))


def test_p99_estimate_of_a_mixture_against_the_true_p99() -> None:
    """Fast statements with a few slow ones: the mixture puts the p99 where the slow calls are."""
    rng = random.Random(1)
    fast = [max(0.1, rng.gauss(4, 1)) for _ in range(4900)]
    medium = [max(1.0, rng.gauss(60, 15)) for _ in range(60)]
    slow = [max(100.0, rng.gauss(700, 80)) for _ in range(40)]
    everything = sorted(fast + medium + slow)
    true_p99 = everything[int(0.99 * len(everything)) - 1]
    estimate = latency.estimate_quantile([_stmt("a", fast), _stmt("b", medium), _stmt("c", slow)], 0.99)
    assert abs(estimate - true_p99) / true_p99 < 0.15, (estimate, true_p99)
    assert estimate <= max(slow)


def test_interval_statements_are_the_difference_of_two_samples() -> None:
    before = _stmt("a", [10.0] * 100)
    after = _stmt("a", [10.0] * 100 + [500.0] * 5)
    (only,) = latency.in_interval({"a": before.counters()}, [after])
    assert only.calls == 5 and abs(only.mean_ms - 500) < 1e-6 and only.stddev_ms < 1e-3
    reset = _stmt("a", [10.0] * 3)  # fewer calls than before: the statistics were reset
    assert latency.in_interval({"a": after.counters()}, [reset])[0].calls == 3
