"""The dbopt code location: `pipelines.definitions:defs`.

Assets are found in the `assets` package (one module per rollout area) and checks in
the `checks` package, so a new step is picked up without editing this file. Nothing
here connects to a database: resources open connections inside steps.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

import assets
import checks
from dbopt import tmp_homes
from pipelines.jobs import JOBS
from pipelines.metadata import with_python_references
from pipelines.resources import resources_from_env
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS

# `dagster job execute` without DAGSTER_HOME keeps its runs in `.tmp_dagster_home_*` in the
# current directory: mark ours, remove those whose `dagster` process was killed.
tmp_homes.claim()
tmp_homes.remove_stale(Path.cwd())

# Every asset links to its Python source beside the SQL files its step declares, so the UI
# leads from a step to the code that runs it.
defs = dg.Definitions(
    assets=with_python_references(dg.load_assets_from_package_module(assets)),
    asset_checks=dg.load_asset_checks_from_package_module(checks),
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=resources_from_env(),
)
