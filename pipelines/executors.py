"""Where the range runs of `backfill_by_range` execute: one process per run (the default), or
Dagster's own executors for a team that spreads them over machines.

Every other job keeps `in_process_executor` (a crash leaves no orphaned step still writing).
The range runs are the one place where more workers help: each run is one key range, and the
`postgres_backfill` pool caps how many run at once, whichever executor runs them.
`DBOPT_RANGE_EXECUTOR` picks it when the code location loads (deploy/k8s, deploy/celery):

- `in_process` (default): each range run is one process, launched by the instance's run
  launcher (with `K8sRunLauncher`, one pod per run: no executor change needed);
- `multiprocess`: each step of a run in a process of its own (also the stand-in for the two below);
- `k8s`: `dagster_k8s.k8s_job_executor`, each step a Kubernetes Job (`pip install dagster-k8s`);
- `celery`: `dagster_celery.celery_executor`, each step a Celery task (`pip install dagster-celery`).
"""

from __future__ import annotations

import os

import dagster as dg

from dbopt.errors import DboptError

ENV = "DBOPT_RANGE_EXECUTOR"
CHOICES = ("in_process", "multiprocess", "k8s", "celery")


def executor_for_ranges(value: str | None = None) -> dg.ExecutorDefinition:
    """The executor named by DBOPT_RANGE_EXECUTOR, or one sentence naming the choices."""
    name = (value if value is not None else os.environ.get(ENV, "")).strip() or "in_process"
    if name not in CHOICES:
        raise DboptError(f"{ENV}={name!r} is not an executor dbopt knows; use one of {', '.join(CHOICES)}.")
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    package = {"k8s": "dagster_k8s", "celery": "dagster_celery"}[name]
    try:
        module = __import__(package)
    except ImportError as exc:
        raise DboptError(
            f"{ENV}={name} needs the package {package.replace('_', '-')}, which is not installed here: "
            f"pip install {package.replace('_', '-')} (the version that matches dagster), or unset {ENV}."
        ) from exc
    return module.k8s_job_executor if name == "k8s" else module.celery_executor
