"""Schedules: partition cleanup, monitoring, candidate refresh (see docs/runbook.md)."""

from __future__ import annotations

import dagster as dg

SCHEDULES: list[dg.ScheduleDefinition] = []
