"""The jobs of the contract (BASELINE.md) and the operations around them.

Rollout jobs select asset groups, so a step added to a phase is part of its job. Every
job runs in one process (`in_process_executor`): steps of a rollout are sequential by
nature, a crash or SIGKILL leaves no orphaned step process still writing, and chDB's
one-process-per-folder rule holds within a run. Pools serialize across runs.
"""

from __future__ import annotations

import dagster as dg

JOBS: list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition] = []
