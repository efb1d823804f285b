"""`.tmp_dagster_home_*` folders that a killed `dagster job execute` leaves behind.

Without DAGSTER_HOME, `dagster job execute` (the contract's command) keeps its runs in a
temporary instance folder `.tmp_dagster_home_XXXX` that it makes in the current directory
(dagster/_cli/utils.py, `_get_temporary_instance`) and removes when it exits; a run killed
with SIGKILL or SIGTERM leaves it there, in the checkout. Dagster makes the folder before it
loads the code location and offers no hook, so:

- `claim()`, called when the code location loads, writes the pid (and start time) of the
  process that owns the folder into it (`dbopt.owner`): the CLI process holds the instance
  it made in a local variable of a frame below the import;
- `remove_stale()`, called by every `dbopt` command and by the code location when it loads,
  removes the folders whose owner has died. A folder without an owner file is left alone:
  nothing says it is not in use.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PREFIX = ".tmp_dagster_home_"  # dagster's TMP_DAGSTER_HOME_PREFIX
OWNER_FILE = "dbopt.owner"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), which tells a pid reused
    by another process from the original; "" where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command's name


def _alive(pid: int, started: str) -> bool:
    from dbopt.embedded import pid_alive

    return pid_alive(pid) and (not started or _start_time(pid) in ("", started))


def _instance_folder() -> Path | None:
    """The temporary instance folder of the `dagster` command this process runs, if any."""
    import dagster as dg

    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, dg.DagsterInstance):
                root = Path(value.root_directory)
                if root.name.startswith(PREFIX):
                    return root
        frame = frame.f_back
    return None


def claim() -> Path | None:
    """Mark this process's temporary instance folder as its own (nothing without one)."""
    if os.environ.get("DAGSTER_HOME"):
        return None
    folder = _instance_folder()
    if folder is None or not folder.is_dir():
        return None
    owner = folder / OWNER_FILE
    if not owner.exists():
        owner.write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    return folder


def remove_stale(*folders: Path) -> list[Path]:
    """Remove the `.tmp_dagster_home_*` folders in `folders` whose owner process has died."""
    removed = []
    for parent in dict.fromkeys(f.resolve() for f in folders):
        try:
            candidates = [p for p in parent.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
        except OSError:
            continue
        for folder in candidates:
            try:
                pid, _, started = (folder / OWNER_FILE).read_text().strip().partition(" ")
                if _alive(int(pid), started.strip()):
                    continue
            except (OSError, ValueError):
                continue  # no owner recorded: maybe in use
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
