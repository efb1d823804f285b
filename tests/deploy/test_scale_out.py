"""Scale-out of the Phase 1.1 backfills on Dagster's own machinery: a backfill of the job
`backfill_by_range` (one run per key range), queued, dequeued by a real `dagster-daemon`,
capped by the `postgres_backfill` pool, while the application writes; then `phase1_postgres`
finishes what the ranges left. And how the same runs go onto Kubernetes or Celery, as far as
this machine allows: their configuration loads, and the range runs above execute on the
multiprocess executor as their stand-in (each step in a process of its own)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from dbopt.devserver import stop_process_group
from dbopt.paths import REPO_ROOT
from dbopt.postgres.traffic import Traffic
from tests.postgres.conftest import failures, run_job
from tests.postgres.invariants import numbering_violations, preexisting_order, violations

BIN = Path(sys.executable).parent
WORKSPACE = str(REPO_ROOT / "workspace.yaml")
RANGES = ["0", "a"]  # two of the sixteen, one at a time through the pool; phase1_postgres does the other thirteen
EXTRA_RANGE = "7"  # run on the multiprocess executor
POOL_LIMIT = 1
DEADLINE_S = 900  # a hang guard, far beyond a loaded machine's minutes
NUMBERING = "sequence_number/number_messages"


def _restore_sigint() -> None:  # pytest may run with SIGINT ignored; the daemon must stop on it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{argv[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


POOLED = {"sequence_number_backfill_by_range", "conversation_counters_backfill_by_range",
          "content_tsv_backfill_by_range"}  # the steps in the postgres_backfill pool (not their checks)


def _step_intervals(instance: dg.DagsterInstance, run_id: str) -> list[tuple[float, float]]:
    """(start, end) of each pooled step of a run, from its event log."""
    starts: dict[str, float] = {}
    out = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key not in POOLED:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            out.append((starts[event.step_key], entry.timestamp))
    return out


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    now = most = 0
    for _, delta in points:
        now += delta
        most = max(most, now)
    return most


def test_range_runs_go_through_the_daemon_capped_by_the_pool_while_the_application_writes(
    team_home, seeded_pg_url: str, embedded_redis, tmp_path: Path
) -> None:
    before = preexisting_order(seeded_pg_url)
    # Ranges launched before the schema steps are refused in one sentence, before any change.
    early = run_job(seeded_pg_url, "backfill_by_range", partition_key="0")
    assert not early.success
    assert any("phase1_postgres_triggers first" in f for f in failures(early)), failures(early)

    triggers = run_job(seeded_pg_url, "phase1_postgres_triggers")
    assert triggers.success, failures(triggers)

    env = {
        **os.environ,
        "DAGSTER_HOME": str(team_home.home),
        "DAGSTER_PG_URL": team_home.dagster_pg_url,
        "DATABASE_URL": seeded_pg_url,
        # The daemon also runs the code location's sensors, and the cache sensor reads Redis: the
        # suite's, not one the daemon would start in DBOPT_HOME and leave running.
        "REDIS_URL": embedded_redis.url(),
        "DBOPT_HOME": str(tmp_path / "data"),
    }
    env.pop("DBOPT_RANGE_EXECUTOR", None)
    _cli([str(BIN / "dagster"), "instance", "concurrency", "set", "postgres_backfill", str(POOL_LIMIT)], env)
    out = _cli([str(BIN / "dagster"), "job", "backfill", "-w", WORKSPACE, "-j", "backfill_by_range",
                "--partitions", ",".join(RANGES), "--noprompt"], env)
    assert "Launched backfill job" in out, out
    with team_home.instance() as instance:
        queued = instance.get_runs(dg.RunsFilter(job_name="backfill_by_range"))
        assert len(queued) == len(RANGES) and {r.status for r in queued} == {dg.DagsterRunStatus.QUEUED}

    log = tmp_path / "daemon.log"
    traffic = Traffic(seeded_pg_url, kinds=("send_hot", "send_random", "members", "edit"))
    with traffic, log.open("wb") as out_file:
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", WORKSPACE], cwd=REPO_ROOT, env=env,
                                  stdout=out_file, stderr=subprocess.STDOUT, start_new_session=True,
                                  preexec_fn=_restore_sigint)
        started = time.monotonic()
        try:
            with team_home.instance() as instance:
                while True:
                    runs = instance.get_runs(dg.RunsFilter(job_name="backfill_by_range"))
                    bad = [r for r in runs if r.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)]
                    assert not bad, [(r.tags.get("dagster/partition"), _failures_of(instance, r.run_id)) for r in bad]
                    if all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs):
                        break
                    assert daemon.poll() is None, f"the daemon exited:\n{log.read_text()[-3000:]}"
                    assert time.monotonic() - started < DEADLINE_S, (
                        f"range runs not done in {DEADLINE_S} s: {[(r.tags.get('dagster/partition'), r.status.value) for r in runs]}"
                        f"\n{log.read_text()[-3000:]}")
                    time.sleep(1)
                intervals = [i for r in runs for i in _step_intervals(instance, r.run_id)]
                by_partition = {r.tags["dagster/partition"]: r.run_id for r in runs}
                checked = {r.tags["dagster/partition"]: sorted(
                    (e.dagster_event.event_specific_data.check_name, e.dagster_event.event_specific_data.passed)
                    for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION))
                    for r in runs}
        finally:
            stop_process_group(daemon, timeout=60)
    assert daemon.returncode == 0, f"the daemon did not stop cleanly on SIGINT:\n{log.read_text()[-3000:]}"

    # One run per range, each doing its three backfills; never more steps at once than the pool.
    assert sorted(by_partition) == sorted(RANGES)
    # Each range run checked its own range with the backfills' blocking checks, and they passed.
    for key_range, results in checked.items():
        assert {"sequence_numbers_complete_and_unique", "conversation_counters_match_recount",
                "content_tsv_matches_content"} <= {name for name, passed in results if passed}, (key_range, results)
    assert len(intervals) == 3 * len(RANGES)
    assert _most_at_once(intervals) <= POOL_LIMIT
    with psycopg.connect(seeded_pg_url) as conn:
        done_by = dict(conn.execute(
            "SELECT key_range, run_id FROM dbopt.backfill_progress WHERE backfill = %s AND finished_at IS NOT NULL",
            (NUMBERING,)).fetchall())
    assert {k: done_by.get(k) for k in RANGES} == by_partition

    # The application kept writing, and nothing it wrote failed.
    assert all(traffic.stats.ops[k] > 0 for k in ("send_hot", "send_random", "members", "edit")), traffic.stats.ops
    assert traffic.stats.errors == []

    # One more range from the contract's command line on the multiprocess executor, each step in a
    # process of its own: the stand-in for Kubernetes and Celery, which this machine cannot run.
    by_partition[EXTRA_RANGE] = _range_on_the_multiprocess_executor(seeded_pg_url, tmp_path)

    # phase1_postgres finishes: the other ranges, the constraints, the index; the ranges above are not redone.
    finish = run_job(seeded_pg_url, "phase1_postgres")
    assert finish.success, failures(finish)
    with psycopg.connect(seeded_pg_url) as conn:
        after = dict(conn.execute("SELECT key_range, run_id FROM dbopt.backfill_progress WHERE backfill = %s",
                                  (NUMBERING,)).fetchall())
    assert len(after) == 16 and {k: after[k] for k in by_partition} == by_partition
    assert violations(seeded_pg_url) == {}
    assert numbering_violations(seeded_pg_url, before) == []


def _range_on_the_multiprocess_executor(url: str, tmp_path: Path) -> str:
    home = tmp_path / "multiprocess_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATABASE_URL": url,
           "DBOPT_HOME": str(tmp_path / "data"), "DBOPT_RANGE_EXECUTOR": "multiprocess"}
    _cli([str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-j", "backfill_by_range",
          "--tags", json.dumps({"dagster/partition": EXTRA_RANGE})], env)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["dagster/partition"] == EXTRA_RANGE
        engine = [e.message for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
        assert any("multiprocess" in m.lower() for m in engine), engine[:5]
    with psycopg.connect(url) as conn:
        (done_by,) = conn.execute(
            "SELECT run_id FROM dbopt.backfill_progress WHERE backfill = %s AND key_range = %s "
            "AND finished_at IS NOT NULL", (NUMBERING, EXTRA_RANGE)).fetchone()
    assert done_by == run.run_id
    return run.run_id


def _failures_of(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.message for e in instance.all_logs(run_id) if e.dagster_event and e.dagster_event.is_failure]


def _definitions_with(executor: str, check: str) -> str:
    """Load the code location in a fresh interpreter with DBOPT_RANGE_EXECUTOR set (read at load)."""
    code = (
        "import yaml, dagster as dg\n"
        "from pipelines.definitions import defs\n"
        "job = defs.resolve_job_def('backfill_by_range')\n"
        f"{check}\n"
    )
    # The broker's URL stays in the environment, as a deployment keeps it.
    env = {**os.environ, "DBOPT_RANGE_EXECUTOR": executor, "DBOPT_CELERY_BROKER_URL": "pyamqp://guest@127.0.0.1//"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    return (done.stdout + done.stderr).strip()


@pytest.mark.parametrize("executor,run_config", [("k8s", "deploy/k8s/backfill_by_range.yaml"),
                                                 ("celery", "deploy/celery/backfill_by_range.yaml")])
def test_kubernetes_and_celery_configurations_load(executor: str, run_config: str) -> None:
    out = _definitions_with(executor, (
        "print(job.executor_def.name)\n"
        f"config = yaml.safe_load(open({run_config!r}))\n"
        "result = dg.validate_run_config(job, config)\n"
        "print('valid', sorted(result['execution']))"
    ))
    assert out.splitlines()[-2:][0] == {"k8s": "k8s", "celery": "celery"}[executor], out
    assert out.splitlines()[-1].startswith("valid"), out


def test_the_kubernetes_instance_builds_its_run_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy/k8s/dagster.yaml as shipped, with a kubeconfig instead of the in-cluster one."""
    from dagster_k8s import K8sRunLauncher

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
        "users": [{"name": "test", "user": {"token": "test"}}],
    }))
    home = tmp_path / "home"
    home.mkdir()
    text = (REPO_ROOT / "deploy" / "k8s" / "dagster.yaml").read_text()
    assert "load_incluster_config: true" in text
    (home / "dagster.yaml").write_text(text.replace(
        "load_incluster_config: true", f"load_incluster_config: false\n    kubeconfig_file: {kubeconfig}"
    ).replace("postgres:\n    postgres_url:\n      env: DAGSTER_PG_URL", f"sqlite:\n    base_dir: {home}"))
    monkeypatch.setenv("DBOPT_IMAGE", "registry.example/dbopt:1")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, K8sRunLauncher)
        assert launcher.job_image == "registry.example/dbopt:1"
        assert "dbopt-database-urls" in launcher.env_secrets


def test_an_unknown_range_executor_is_one_sentence() -> None:
    out = _definitions_with("kube", "print(job.executor_def.name)")
    assert "DBOPT_RANGE_EXECUTOR='kube' is not an executor dbopt knows; use one of in_process, multiprocess, k8s, " \
           "celery." in out, out
