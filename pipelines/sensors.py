"""Sensors that turn alerts into reruns of the job that remedies them."""

from __future__ import annotations

import dagster as dg

SENSORS: list[dg.SensorDefinition] = []
