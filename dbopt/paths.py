"""Where things live: the repository, its `sql/` folder and the data folder."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parents[1]
SQL_DIR: Path = REPO_ROOT / "sql"


def default_data_dir(root: Path = REPO_ROOT) -> Path:
    """`.dbopt/` in the repository, so that a fresh clone keeps everything it starts in one
    place that `make clean` can remove; installed from a wheel (`pip install dbopt`, no
    checkout around the code), the user's data folder instead of site-packages."""
    if (root / "pyproject.toml").exists():
        return root / ".dbopt"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "dbopt"


def data_dir() -> Path:
    """The data folder for embedded servers, Dagster's home and reports: `DBOPT_HOME` when
    set, else `default_data_dir()`."""
    home = os.environ.get("DBOPT_HOME")
    path = Path(home).expanduser().resolve() if home else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def dagster_home() -> Path:
    """`DAGSTER_HOME` when set, else a persistent instance folder under the data folder."""
    home = os.environ.get("DAGSTER_HOME")
    path = Path(home).expanduser().resolve() if home else data_dir() / "dagster"
    path.mkdir(parents=True, exist_ok=True)
    return path
