"""Monitoring tests: a persistent Dagster instance, PostgreSQL after Phase 1, jobs and sensor ticks.

Sensors are driven as the daemon drives them (`evaluate_tick` on a real instance); a run
they request is executed the way the daemon would launch it: the requested job, with the
request's tags and run key, in the same instance, against real databases.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import psycopg
import pytest

from pipelines.definitions import defs
from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


NOWHERE = {"pg": "postgresql://nobody@127.0.0.1:9/none", "redis": "redis://127.0.0.1:9/0", "ch": "http://127.0.0.1:9"}


def resources(pg: str | None = None, redis: str | None = None, ch: str | None = None) -> dict[str, Any]:
    """Every resource of the code location; those not given point nowhere (a step using one fails)."""
    return {
        "postgres": PostgresResource(database_url=pg or NOWHERE["pg"]),
        "redis": RedisResource(redis_url=redis or NOWHERE["redis"]),
        "clickhouse": ClickHouseResource(clickhouse_url=ch or NOWHERE["ch"]),
    }


def monitor(instance: dg.DagsterInstance, job: str, *, run_config: dict | None = None,
            **res: str) -> dg.ExecuteInProcessResult:
    """Run a monitoring job (its assets, then their alert checks) into `instance`, as its schedule would."""
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        resources=resources(**res),
        run_config=run_config or {},
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def check(result: dg.ExecuteInProcessResult, name: str) -> tuple[bool, dict[str, Any]]:
    """(passed, metadata as plain values) of the check `name` in a run."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and event.event_specific_data.check_name == name:
            data = event.event_specific_data
            return data.passed, {k: v.value for k, v in data.metadata.items()}
    raise AssertionError(f"check {name} did not run")


def materialized(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            if m.asset_key.to_user_string() == asset:
                return {k: v.value for k, v in m.metadata.items()}
    raise AssertionError(f"{asset} was not materialized")


class SensorDriver:
    """Ticks one sensor against an instance, keeping its cursor between ticks like the daemon."""

    def __init__(self, instance: dg.DagsterInstance, name: str) -> None:
        self.instance = instance
        self.name = name
        self.sensor = defs.resolve_sensor_def(name)
        self.cursor: str | None = None

    def tick(self):
        data = self.sensor.evaluate_tick(
            dg.build_sensor_context(instance=self.instance, cursor=self.cursor, definitions=defs)
        )
        self.cursor = data.cursor
        return data

    def skip(self) -> str:
        data = self.tick()
        assert not data.run_requests, f"expected no run request, got {data.run_requests}"
        return data.skip_message or ""

    def request(self) -> dg.RunRequest:
        data = self.tick()
        assert len(data.run_requests) == 1, f"expected one run request, got {data.skip_message!r}"
        return data.run_requests[0]

    def launch(self, request: dg.RunRequest, **res: str) -> dg.ExecuteInProcessResult:
        """Execute the requested run as the daemon would: its job, tags and run key, in this instance."""
        tags = {**request.tags, "dagster/run_key": request.run_key, "dagster/sensor_name": self.name}
        return defs.resolve_job_def(request.job_name).execute_in_process(
            instance=self.instance, resources=resources(**res), tags=tags, raise_on_error=False
        )


def unreachable_pg(url: str) -> str:
    """The same server, a database that does not exist: a remedy launched there fails for real."""
    return psycopg.conninfo.make_conninfo(url, dbname=f"gone_{uuid.uuid4().hex[:8]}")


@dataclass
class Case:
    """One alert sensor in a remedy flow, with how to break and verify what it watches."""

    driver: SensorDriver
    check_name: str
    job: str
    break_it: Callable[[], None]
    verify_fixed: Callable[[], None]
    good: dict[str, str]  # resources under which its remedy works
    bad: dict[str, str]  # resources under which its remedy fails for real
    expect_value: float | None = None
    requests: list[dg.RunRequest] = field(default_factory=list)

    @property
    def alert(self) -> str:
        return self.driver.name.removesuffix("_sensor")


def remedy_flow(evaluate: Callable[[], dg.ExecuteInProcessResult], *cases: Case) -> None:
    """Alert sensors through every state, on real databases, sharing the evaluations:

    not evaluated -> below threshold (skip, OK) -> above (one request: job, tags, run key) ->
    same alert again, twice (no second request) -> remedy succeeds, the data is repaired, the
    next evaluation passes -> a new firing (a new run key) -> remedy fails (back-off, said in
    the skip reason, also after a further failing evaluation)."""
    for c in cases:
        assert "not evaluated yet" in c.driver.skip()

    result = evaluate()
    for c in cases:
        passed, md = check(result, c.check_name)
        assert passed, md
        assert c.driver.skip().startswith("OK:")

    for c in cases:
        c.break_it()
    result = evaluate()
    for c in cases:
        passed, md = check(result, c.check_name)
        assert not passed and "value" in md and "threshold" in md, md
        if c.expect_value is not None:
            assert md["value"] == c.expect_value, md
        first = c.driver.request()
        assert first.job_name == c.job
        episode = first.tags["dbopt/alert-episode"]
        assert first.tags["dbopt/alert"] == c.alert and first.tags["dbopt/alert-attempt"] == "1"
        assert first.run_key == f"{c.alert}:{episode}:1"
        assert first.tags["dbopt/alert-value"] == f"{md['value']:.6g}"
        assert first.tags["dbopt/alert-threshold"] == f"{md['threshold']:.6g}"
        c.requests.append(first)
        assert "already requested" in c.driver.skip()

    result = evaluate()
    for c in cases:
        assert not check(result, c.check_name)[0]
        assert "already requested" in c.driver.skip()

    for c in cases:
        ok = c.driver.launch(c.requests[0], **c.good)
        assert ok.success, [e.message for e in ok.all_events if e.is_failure]
        c.verify_fixed()
        assert "waiting for the next evaluation" in c.driver.skip()
    result = evaluate()
    for c in cases:
        assert check(result, c.check_name)[0]
        assert c.driver.skip().startswith("OK:")

    for c in cases:
        c.break_it()
    result = evaluate()
    for c in cases:
        assert not check(result, c.check_name)[0]
        second = c.driver.request()
        first = c.requests[0]
        assert second.run_key != first.run_key
        assert second.tags["dbopt/alert-episode"] != first.tags["dbopt/alert-episode"]
        failed = c.driver.launch(second, **c.bad)
        assert not failed.success
        reason = c.driver.skip()
        assert "backing off" in reason and failed.run_id[:8] in reason, reason

    result = evaluate()
    for c in cases:
        assert not check(result, c.check_name)[0]
        assert "backing off" in c.driver.skip()
