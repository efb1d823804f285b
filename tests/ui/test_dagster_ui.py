"""The platform team's interface, in a real browser: `dagster dev` on 127.0.0.1, headless
Chromium driven by Playwright, phase1_postgres launched from the Launchpad on `tiny` data,
its checks read on the asset's page, and a check that fails (counters corrupted behind
dbopt's back) showing its offending rows and the next step. With DBOPT_SCREENSHOTS=1 it also refreshes the
README's screenshots in docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbopt.devserver import start_dagster_dev, stop_process_group
from dbopt.embedded import free_port
from dbopt.paths import REPO_ROOT
from tests.ui.conftest import CHROMIUM

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def ui_database(embedded_pg, tmp_path: Path) -> Iterator[str]:
    """A database on the embedded server and a chDB folder, both with the baseline and `tiny`
    data, seeded by `dbopt seed` in a process of its own (this one never opens that folder)."""
    name = f"dbopt_ui_{uuid.uuid4().hex[:8]}"
    admin = embedded_pg.url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded_pg.url(name)
    env = {**os.environ, "DATABASE_URL": url, "CLICKHOUSE_URL": f"chdb://{tmp_path / 'clickhouse'}",
           "DBOPT_HOME": str(tmp_path / "data")}
    seeded = subprocess.run([str(Path(sys.executable).parent / "dbopt"), "seed", "--scale", "tiny",
                             "--overwrite-external-database"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def dagster_ui(ui_database: str, embedded_redis, tmp_path: Path) -> Iterator[str]:
    """`dagster dev` on a free loopback port, in its own process group, stopped with SIGINT.
    Its runs use the test's PostgreSQL database and Redis, and a chDB folder of their own
    (this process never opens it: chDB allows one process per folder)."""
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(REPO_ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    env = dict(os.environ)
    env.update({"DATABASE_URL": ui_database, "DAGSTER_HOME": str(home), "DBOPT_HOME": str(tmp_path / "data"),
                "REDIS_URL": embedded_redis.url(), "CLICKHOUSE_URL": f"chdb://{tmp_path / 'clickhouse'}"})
    port = free_port()
    proc = start_dagster_dev(port, REPO_ROOT / "workspace.yaml", env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"{base}/server_info", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_process_group(proc)
                raise AssertionError(f"dagster dev did not come up (exit code {proc.returncode})") from None
            time.sleep(1)
    try:
        yield base
    finally:
        stop_process_group(proc, timeout=60)
        assert proc.returncode == 0, f"dagster dev did not stop cleanly on SIGINT (exit code {proc.returncode})"


def shoot(page, name: str) -> None:
    if os.environ.get("DBOPT_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def ready(page, locator, *, enabled: bool = False, timeout_s: float = 120) -> None:
    """Wait for `locator`, dismissing Dagster's first-visit welcome dialog whenever it shows
    (a fresh instance opens it a moment after the first page loads, and it disables the page)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        skip = page.get_by_role("button", name="Skip")
        if skip.count() and skip.first.is_visible():
            skip.first.click()
        # Dagster renders some names twice (a shortened, hidden copy and a full one).
        if any(el.is_visible() and (not enabled or el.is_enabled()) for el in locator.all()):
            return
        time.sleep(0.5)
    shot = Path(os.environ.get("TMPDIR", "/tmp")) / "dbopt-ui-failure.png"
    page.screenshot(path=str(shot))
    raise AssertionError(f"{locator} did not appear in {timeout_s:.0f} s (the page then: {shot})")


def launch_from_launchpad(page, base: str, job: str, *, shots: tuple[str, str] | None = None,
                         timeout_s: float = 480) -> str:
    """Open the job's Launchpad, launch it with its defaults (they must be valid as they are),
    and wait on the run's page, which updates live, for its Success badge."""
    page.goto(f"{base}/locations/dbopt/jobs/{job}/playground")
    launch = page.get_by_role("button", name="Launch Run")
    ready(page, launch, enabled=True)
    ready(page, page.get_by_text("No errors"))
    if shots:
        shoot(page, shots[0])
    launch.click()
    page.wait_for_url(re.compile(r".*/runs/[0-9a-f-]{36}"))
    run_url = page.url
    ready(page, page.get_by_text(re.compile(r"^(Success|Failure)$")), timeout_s=timeout_s)
    assert page.get_by_text("Success", exact=True).count(), f"{job} failed: {run_url}"
    if shots:
        shoot(page, shots[1])
    return run_url


def test_launch_phase1_postgres_from_the_launchpad_and_read_its_checks(dagster_ui: str, ui_database: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)

        # The graph of Phase 1.1 reads like the plan.
        page.goto(f"{dagster_ui}/locations/dbopt/asset-groups/phase1_postgres/lineage")
        # (zoomed out, long names are shortened in the nodes: look for short ones)
        ready(page, page.get_by_text("postgres_baseline", exact=True))

        # As the runbook says: measure before Phase 1, roll it out, measure again.
        launch_from_launchpad(page, dagster_ui, "workload_benchmark")
        # The Launchpad's defaults are valid as they are.
        run_url = launch_from_launchpad(page, dagster_ui, "phase1_postgres", shots=("launchpad", "run"))
        launch_from_launchpad(page, dagster_ui, "workload_benchmark")

        # Before any change the run read the database: the preflight's findings, each a blocking check ...
        page.goto(f"{dagster_ui}/assets/postgres_preflight?view=checks")
        for text in ("postgres_server_version", "postgres_privileges", "postgres_autovacuum"):
            ready(page, page.get_by_text(re.compile(text)).first)
        shoot(page, "preflight")
        # ... and the plan: each step's lock, rows, predicted duration and disk, from a rolled-back sample.
        page.goto(f"{dagster_ui}/assets/postgres_plan")
        for text in ("predicted_range_s", "new_indexes", "steps"):
            ready(page, page.get_by_text(text, exact=True))
        shoot(page, "plan")

        # The plan's targets, measured before and after, on the report asset.
        page.goto(f"{dagster_ui}/assets/workload_benchmark_report")
        ready(page, page.get_by_text("claims", exact=True))
        # The plan's claims, each with the ratio measured and a verdict: a Dagster table shown in
        # place (the whole targets table is the markdown `report` entry beside it).
        ready(page, page.get_by_role("columnheader", name="verdict"), timeout_s=30)
        ready(page, page.get_by_text(re.compile("Message send")).first, timeout_s=30)
        shoot(page, "benchmark_report")

        # The checks of the sequence-number backfill, on the asset's page.
        page.goto(f"{dagster_ui}/assets/sequence_number_backfill?view=checks")
        ready(page, page.get_by_text("sequence_numbers_complete_and_unique"))
        for text in ("blocking", "Passed", "numbers used twice in a conversation", "sequence_numbers_contiguous"):
            ready(page, page.get_by_text(text))
        shoot(page, "checks")

        # And the contract's: the plan's own queries run and read through indexes.
        page.goto(f"{dagster_ui}/assets/phase1_postgres_contract?view=checks")
        entry = page.get_by_text(re.compile(r"^plan_queries"))  # the list shortens long names
        ready(page, entry)
        next(el for el in entry.all() if el.is_visible()).click()
        ready(page, page.get_by_text("plan_queries_run_and_use_indexes"))
        ready(page, page.get_by_text("Passed"))
        body = page.locator("body").inner_text()
        assert "Failed" not in body, body[:2000]

        # A check that fails says why: counters corrupted behind dbopt's back, the check run
        # again from its page, and the UI shows the offending rows and the next step.
        with psycopg.connect(ui_database, autocommit=True) as conn:
            conn.execute("UPDATE conversations SET member_count = member_count + 7")
        page.goto(f"{dagster_ui}/assets/conversation_counters_backfill?view=checks")
        ready(page, page.get_by_text("conversation_counters_match_recount"))
        execute = page.get_by_text("Execute", exact=True)  # the check's own button, not "Execute all"
        ready(page, execute, timeout_s=30)
        next(el for el in execute.all() if el.is_visible()).click()
        ready(page, page.get_by_text("Failed", exact=True), timeout_s=240)
        page.reload()
        for text in ("next_step", "Rerun conversation_counters_backfill", "sample: conversations whose counters"):
            ready(page, page.get_by_text(re.compile(re.escape(text))), timeout_s=60)
        shoot(page, "failed_check")
        # The sample of offending rows is a table, shown in place.
        ready(page, page.get_by_role("columnheader", name="member_count").first, timeout_s=30)
        shoot(page, "failed_check_sample")

        page.set_viewport_size({"width": 1800, "height": 1050})
        page.goto(f"{dagster_ui}/locations/dbopt/asset-groups/phase1_postgres/lineage")
        ready(page, page.get_by_text("query_indexes", exact=True))
        settle = time.monotonic() + 30
        while page.get_by_text(re.compile(r"^Loading")).count() and time.monotonic() < settle:
            time.sleep(0.5)  # let every node load its status before the picture
        shoot(page, "graph_phase1_postgres")
        browser.close()
    assert run_url
