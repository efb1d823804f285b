"""dbopt: carry out the database optimization plan on a live backend, safely, from Dagster.

The packages are laid out like the plan: `assets/` holds one module per rollout area,
`checks/` the checks that stand between steps, `pipelines/` the Dagster code location,
`sql/` every statement the rollout runs, and this package the mechanisms they share
(migration runner, backfill engine, ClickHouse swap, embedded servers, CLI).
"""

__version__ = "0.1.0"
