"""Sensors that turn alerts into reruns of the job that remedies them."""

from __future__ import annotations

import dagster as dg

SENSORS: list[dg.SensorDefinition] = []

# --- Alerts (issue 6): one sensor per alert, launching its remedy job --------------------------

from pipelines.alert_sensors import alert_sensors  # noqa: E402
from pipelines.jobs import JOBS  # noqa: E402

SENSORS += alert_sensors({job.name for job in JOBS})
