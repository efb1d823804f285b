"""Every benchmark run's figures, kept in the data folder so runs can be compared.

`data_dir()/reports/workload_benchmark.json` holds one entry per Dagster run: when, the
databases' state (which phase each is at) and dataset, and per metric the figures of
every pattern measured, the comparison of answers and the thresholds checked. Steps of a
run add their metrics to the run's entry; the report reads the latest runs from it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbopt.paths import data_dir

KEEP_RUNS = 200


def reports_dir() -> Path:
    path = data_dir() / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path() -> Path:
    return reports_dir() / "workload_benchmark.json"


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    with open(reports_dir() / ".workload_benchmark.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load() -> list[dict[str, Any]]:
    p = path()
    if not p.exists():
        return []
    try:
        return list(json.loads(p.read_text()).get("runs", []))
    except (ValueError, AttributeError):
        return []  # a damaged file is replaced by the next run rather than failing it


def _save(runs: list[dict[str, Any]]) -> None:
    tmp = path().with_suffix(".tmp")
    tmp.write_text(json.dumps({"runs": runs[-KEEP_RUNS:]}, indent=1, default=str))
    os.replace(tmp, path())


def record(run_id: str, state: dict[str, Any], metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Add a step's metrics (and the state it saw) to the run's entry; returns the entry."""
    with _locked():
        runs = load()
        entry = next((r for r in runs if r["run_id"] == run_id), None)
        if entry is None:
            entry = {"run_id": run_id, "started_at": datetime.now(UTC).isoformat(), "states": [], "metrics": {}}
            runs.append(entry)
        entry["states"].append(state)
        entry["metrics"].update(metrics)
        _save(runs)
        return entry


def run(run_id: str) -> dict[str, Any] | None:
    return next((r for r in load() if r["run_id"] == run_id), None)


def metric(run_id: str, key: str) -> dict[str, Any] | None:
    """A metric of this run, or the latest run that measured it."""
    runs = load()
    mine = next((r for r in runs if r["run_id"] == run_id), None)
    if mine and key in mine["metrics"]:
        return mine["metrics"][key]
    latest = next((r for r in reversed(runs) if key in r["metrics"]), None)
    return latest["metrics"][key] if latest else None
