"""The local Dagster UI: its persistent instance folder and `dagster dev`, started and stopped
as a process group (used by `dbopt ui`, `dbopt demo` and the UI and daemon tests)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from dbopt.paths import REPO_ROOT, dagster_home, data_dir


def prepare_dagster_home() -> Path:
    """A persistent instance under the data folder, with the local template on first use."""
    home = dagster_home()
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copy(REPO_ROOT / "deploy" / "dagster.local.yaml", config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _restore_sigint() -> None:
    # A background job of a non-interactive shell starts with SIGINT ignored; its children
    # would inherit that, and Python would then install no KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_dagster_dev(port: int, workspace: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`dagster dev` on 127.0.0.1 in a process group of its own, stoppable with SIGINT.

    dagster dev ignores SIGTERM when it runs in the background, so it is stopped with
    SIGINT (see stop_process_group); SIGINT must therefore not be inherited as ignored.
    """
    dagster = Path(sys.executable).parent / "dagster"
    return subprocess.Popen(
        [str(dagster), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=_restore_sigint,  # noqa: PLW1509 - no threads run yet in the callers
    )


def stop_process_group(proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """SIGINT to dagster dev (it stops its webserver, daemon and code servers), SIGKILL to the
    whole group if anything lingers."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a child that outlived its parent


WORKSPACE_YAML = """\
# The dbopt code location: `dagster dev -w workspace.yaml` (or `dbopt ui`).
load_from:
  - python_module:
      module_name: pipelines.definitions
      attribute: defs
      location_name: dbopt
"""


def workspace_file(root: Path = REPO_ROOT) -> Path:
    """The checkout's workspace.yaml; installed without a checkout (no workspace.yaml beside the
    packages), the same file written into the data folder, so `dbopt ui` works from a plain install."""
    checkout = root / "workspace.yaml"
    if checkout.exists():
        return checkout
    written = data_dir() / "workspace.yaml"
    if not written.exists() or written.read_text() != WORKSPACE_YAML:
        written.write_text(WORKSPACE_YAML)
    return written


def serve(port: int) -> int:
    """`dagster dev` in the foreground until it ends, Ctrl-C or SIGTERM (which stop it)."""
    proc = start_dagster_dev(port, workspace_file())

    def stop(*_: object) -> None:
        stop_process_group(proc)

    signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop()
        return 0
