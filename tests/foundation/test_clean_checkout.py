"""Nothing dbopt does leaves files in the checkout: the contract's command run without
DAGSTER_HOME and killed leaves a `.tmp_dagster_home_*` folder (dagster makes it in the
current directory), and the next `dbopt` command or code location load removes it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from dbopt import tmp_homes
from dbopt.paths import REPO_ROOT

BIN = Path(sys.executable).parent


def checkout_files() -> set[str]:
    """Untracked and ignored paths of the checkout, as git lists them."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    return {line[3:] for line in out.splitlines() if line[:2] in ("??", "!!")}


def test_a_killed_dagster_job_execute_leaves_nothing_in_the_checkout(tmp_path: Path) -> None:
    before = checkout_files()
    homes_before = {p.name for p in REPO_ROOT.glob(f"{tmp_homes.PREFIX}*")}
    # A "PostgreSQL" that accepts the connection and never answers: the run waits in its
    # first step (connect_timeout) until it is killed.
    silent = socket.create_server(("127.0.0.1", 0))
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "DATABASE_URL", "REDIS_URL")}
    env.update({
        "DATABASE_URL": f"postgresql://app@127.0.0.1:{silent.getsockname()[1]}/app",
        "CLICKHOUSE_URL": f"chdb://{tmp_path / 'ch'}",
        "DBOPT_HOME": str(tmp_path / "data"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    })
    run = subprocess.Popen([str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-j",
                            "preflight_postgres"], cwd=REPO_ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        silent.settimeout(240)
        conn, _ = silent.accept()  # the run is inside its step now
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        conn.close()
    finally:
        silent.close()
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    left = [p for p in REPO_ROOT.glob(f"{tmp_homes.PREFIX}*") if p.name not in homes_before]
    assert len(left) == 1 and (left[0] / tmp_homes.OWNER_FILE).exists(), left  # what dagster leaves
    # The next dbopt command removes it.
    proc = subprocess.run([str(BIN / "dbopt")], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not left[0].exists()
    assert checkout_files() - before == set()


def test_only_folders_whose_owner_died_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine, theirs, unknown = (tmp_path / f"{tmp_homes.PREFIX}{n}" for n in ("mine", "theirs", "unknown"))
    for folder in (mine, theirs, unknown):
        (folder / "history").mkdir(parents=True)
    (mine / tmp_homes.OWNER_FILE).write_text(f"{os.getpid()} {tmp_homes._start_time(os.getpid())}\n")
    (theirs / tmp_homes.OWNER_FILE).write_text(f"{dead.pid} 1\n")
    assert tmp_homes.remove_stale(tmp_path) == [theirs]
    assert mine.exists() and unknown.exists() and not theirs.exists()
    # A live pid that another process now holds (another start time) is not the owner.
    (mine / tmp_homes.OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    assert tmp_homes.remove_stale(tmp_path) == [mine]
