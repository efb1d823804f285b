"""Benchmark of clickhouse_plan (issue 15, not a test): how close the predicted duration of
phase1_clickhouse is to the measured one, per step and in total, from one run.

Seeds its own chDB folder, then runs the whole phase1_clickhouse job in this process: its
clickhouse_preflight, clickhouse_plan (calibrated on this machine from a timed sample in a
scratch database) and every step, and prints clickhouse_receipt's table (the plan's
prediction against the ledger's actual time of each step).

    .venv/bin/python benchmarks/clickhouse_plan_accuracy.py --scale medium --folder /tmp/dbopt-bench-chplan
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbopt.clickhouse import rollout_plan  # noqa: E402
from dbopt.clickhouse.client import connect  # noqa: E402
from dbopt.seed import seed  # noqa: E402
from dbopt.seed.scales import scale_for  # noqa: E402


def measure(scale: str, folder_path: str, sample_rows: int = rollout_plan.SAMPLE_ROWS) -> dict:
    """Seed `scale` into its own chDB folder, run phase1_clickhouse there and print predicted
    against measured; returns the totals."""
    folder = Path(folder_path).resolve()
    shutil.rmtree(folder, ignore_errors=True)
    url = f"chdb://{folder}?database=bench"
    ch = connect(url)
    started = time.perf_counter()
    seed(None, ch, scale_for(scale), reset=True, progress=lambda _: None)
    print(f"seeded {scale} in {time.perf_counter() - started:.1f}s; ClickHouse (chDB "
          f"{ch.scalar('SELECT version()')}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    ch.close()

    from pipelines.definitions import defs
    from pipelines.resources import ClickHouseResource

    job = defs.resolve_job_def("phase1_clickhouse")
    run_config = {"ops": {"clickhouse_plan": {"config": {"sample_rows": sample_rows}}}}
    started = time.perf_counter()
    result = job.execute_in_process(resources={"clickhouse": ClickHouseResource(clickhouse_url=url)},
                                    run_config=run_config)
    wall = time.perf_counter() - started
    receipt = None
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            if m.asset_key.to_user_string() == "clickhouse_receipt":
                receipt = [r.data for r in m.metadata["receipt"].value.records]
    print(f"phase1_clickhouse: {'succeeded' if result.success else 'FAILED'} in {wall:.1f}s wall "
          f"(preflight, plan and checks included)\n")
    print(f"{'step':<18} {'predicted s':>12} {'range s':>16} {'actual s':>10} {'actual/pred':>12}")
    for r in receipt or []:
        print(f"{r['step']:<18} {r['predicted_s']:>12} {r['range_s']:>16} {str(r['actual_s']):>10} "
              f"{str(r['actual/predicted']):>12}")
    err = None
    if receipt and receipt[-1]["actual_s"] is not None:
        total = receipt[-1]
        err = float(total["predicted_s"]) / float(total["actual_s"]) - 1  # against the measured time (issue 15)
        print(f"\ntotal: predicted {total['predicted_s']} s, measured {total['actual_s']} s: {err:+.0%} "
              f"({'within' if abs(err) <= 0.35 else 'OUTSIDE'} +-35%)")
    _ = rollout_plan  # the model the receipt checks
    out = {"succeeded": result.success, "wall_s": wall, "receipt": receipt}
    if err is not None:
        out |= {"predicted_s": float(receipt[-1]["predicted_s"]), "measured_s": float(receipt[-1]["actual_s"]),
                "error": err}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--folder", default="/tmp/dbopt-bench-chplan", help="chDB folder of its own (emptied)")
    parser.add_argument("--sample-rows", type=int, default=rollout_plan.SAMPLE_ROWS)
    args = parser.parse_args()
    measure(args.scale, args.folder, args.sample_rows)


if __name__ == "__main__":
    main()
