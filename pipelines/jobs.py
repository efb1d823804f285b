"""The jobs of the contract (BASELINE.md) and the operations around them.

Rollout jobs select asset groups, so a step added to a phase is part of its job. Every
job runs in one process (`in_process_executor`): steps of a rollout are sequential by
nature, a crash or SIGKILL leaves no orphaned step process still writing, and chDB's
one-process-per-folder rule holds within a run. Pools serialize across runs.
"""

from __future__ import annotations

import dagster as dg

from pipelines.rollback_postgres import rollback_phase1_postgres

# --- Phase 1.1, PostgreSQL ------------------------------------------------------------------

phase1_postgres = dg.define_asset_job(
    name="phase1_postgres",
    # The *_by_range assets are the optional partitioned form of the backfills.
    selection=dg.AssetSelection.groups("phase1_postgres") - dg.AssetSelection.tag("dbopt/parallel", "by_range"),
    executor_def=dg.in_process_executor,
    description=(
        "The whole PostgreSQL part of Phase 1 (plan 1.1), online: composite indexes, sequence numbers, "
        "conversation counters and full-text search, each step followed by blocking checks. Idempotent and "
        "resumable: rerun it after any failure or crash."
    ),
    tags={"dbopt/phase": "1", "dbopt/system": "postgres"},
)

JOBS: list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition] = [phase1_postgres, rollback_phase1_postgres]
