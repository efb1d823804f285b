"""Benchmark of Phase 1.2 on ClickHouse (not a test), printed side by side from one run:

  1. repartition: the month-by-month copy (rows/s of its copy phase, and of the whole
     step with checks, catch-up, swap and reconciliation) against one plain
     `INSERT INTO new SELECT * FROM old` of the same table (the limit);
  2. retention: `ALTER TABLE ... DROP PARTITION` against `ALTER TABLE ... DELETE` for the
     same month (on a partitioned copy, and on the unpartitioned baseline layout);
  3. feed generation latency (p50/p95): the plan's Phase 2.2 UNION ALL query against the
     candidate tables, against computing one user's candidates from the CDC tables at
     request time (the same SQL the build runs, for that user only).

    .venv/bin/python benchmarks/clickhouse_phase1.py --scale medium --folder /tmp/dbopt-bench-ch

Seeds its own chDB folder (never the project's data folder); --keep reuses a seeded one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dbopt import sqlfiles  # noqa: E402
from dbopt.clickhouse import candidates, catalog, repartition, rollups, swap  # noqa: E402
from dbopt.clickhouse.client import ClickHouse, connect  # noqa: E402
from dbopt.clickhouse.ddl import Ddl  # noqa: E402
from dbopt.seed import seed  # noqa: E402
from dbopt.seed.scales import scale_for  # noqa: E402

BENCH = "clickhouse/phase1/benchmark"
COPY_TABLES = ("likes_cdc", "impressions")


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def rows(ch: ClickHouse, table: str) -> int:
    return int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": table})))


def bench_copy(ch: ClickHouse, ddl: Ddl) -> list[tuple]:
    out = []
    for table in COPY_TABLES:
        n = rows(ch, table)
        plain = f"dbopt_bench_plain_{table}"
        swap.drop(ch, ddl, plain)
        info = catalog.table(ch, table)
        ddl.run(ch, "clickhouse/phase1/cdc_partitioning/010_create_partitioned.sql", target=plain, table=table,
                sorting_key=info.sorting_key)
        _, plain_s = timed(lambda p=plain, t=table: ddl.run(ch, f"{BENCH}/010_plain_copy.sql", target=p, source=t))
        swap.drop(ch, ddl, plain)
        report, total_s = timed(lambda t=table: repartition.repartition(ch, ddl, t))
        out.append((table, n, n / plain_s, report.rows_per_s, n / total_s, report.months))
    return out


def bench_retention(ch: ClickHouse, ddl: Ddl) -> tuple:
    """One month of likes dropped three ways, from identical copies of three months."""
    table = "likes_cdc"
    months = sorted(repartition.month_stats(ch, table, ["event_ts"]))[-4:-1]
    month = months[1]
    columns = catalog.columns(ch, table)
    n = repartition.month_stats(ch, table, columns, [month])[month].rows
    copies = {"drop": "dbopt_bench_drop", "delete": "dbopt_bench_delete"}
    for name in copies.values():
        swap.drop(ch, ddl, name)
        swap.create_like(ch, ddl, name, table)  # partitioned by month, like the live table
        ch.command(sqlfiles.load(f"{BENCH}/030_copy_months.sql", {"target": name, "source": table}), {"months": months})
    baseline = "dbopt_bench_delete_unpartitioned"
    backup = swap.backups(ch, table)[0]
    swap.drop(ch, ddl, baseline)
    swap.create_like(ch, ddl, baseline, backup)  # the baseline layout: one partition
    ch.command(sqlfiles.load(f"{BENCH}/030_copy_months.sql", {"target": baseline, "source": table}), {"months": months})
    _, drop_s = timed(lambda: ddl.run(ch, "clickhouse/partition_maintenance/010_drop_partition.sql", table=copies["drop"],
                                      partition_id=str(month)))
    delete = sqlfiles.load(f"{BENCH}/020_alter_delete.sql", {"table": copies["delete"]})
    _, delete_s = timed(lambda: ch.command(delete, {"month": month}))
    delete_base = sqlfiles.load(f"{BENCH}/020_alter_delete.sql", {"table": baseline})
    _, delete_base_s = timed(lambda: ch.command(delete_base, {"month": month}))
    for name in (*copies.values(), baseline):
        swap.drop(ch, ddl, name)
    return month, n, drop_s, delete_s, delete_base_s


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def bench_feed(ch: ClickHouse, ddl: Ddl, requests: int, request_time_requests: int) -> tuple:
    as_of = candidates.parse_as_of(None)
    scoring = candidates.Scoring()
    _, build_s = timed(lambda: candidates.build(ch, ddl, scoring, as_of))
    users = [r[0] for r in ch.rows("SELECT DISTINCT toString(user_id) FROM feed_candidates_followees")]
    rng = random.Random(1)
    plan = []
    for user in (rng.choice(users) for _ in range(requests)):
        _, s = timed(lambda u=user: candidates.feed_for(ch, u, 20))
        plan.append(s)
    names = candidates.Names(prefix="dbopt_bench")
    request_time = []
    for user in (rng.choice(users) for _ in range(request_time_requests)):
        def compute(u: str = user) -> int:
            params = candidates.prepare(ch, ddl, scoring, as_of, names, users=[u])
            got = 0
            for table in candidates.TABLES:
                staging = names.staging(table)
                candidates.fill(ch, ddl, table, staging, names, params)
                order = "affinity_score" if table == candidates.AFFINITY else "combined_score"
                got += len(ch.rows(sqlfiles.load(f"{candidates.DIR}/080_read_top.sql", {"table": staging,
                                                                                        "order": order}), {"limit": 20}))
            return got
        _, s = timed(compute)
        request_time.append(s)
    candidates.drop_work(ch, ddl, names)
    for table in candidates.TABLES:
        swap.drop(ch, ddl, names.staging(table))
    return build_s, percentiles(plan), percentiles(request_time), requests, request_time_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--folder", default="/tmp/dbopt-bench-ch", help="chDB folder of its own")
    parser.add_argument("--requests", type=int, default=300, help="plan queries timed")
    parser.add_argument("--request-time-requests", type=int, default=20, help="request-time computations timed")
    parser.add_argument("--keep", action="store_true", help="reuse the folder's seeded data if present")
    args = parser.parse_args()

    ch = connect(f"chdb://{Path(args.folder).resolve()}?database=bench")
    ddl = Ddl()
    scale = scale_for(args.scale)
    seeded = catalog.table(ch, "likes_cdc")
    if not (args.keep and seeded and not seeded.monthly):
        _, seed_s = timed(lambda: seed(None, ch, scale, reset=True, progress=lambda _: None))
        print(f"seeded {args.scale} in {seed_s:.1f}s")
    total = sum(rows(ch, t) for t in repartition.CDC_TABLES)
    print(f"ClickHouse (chDB {ch.scalar('SELECT version()')}), scale {args.scale}: {total:,} CDC events, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")

    print("1. Repartition copy throughput (rows/s)")
    print(f"   {'table':<12} {'rows':>12} {'plain INSERT SELECT':>20} {'month-by-month copy':>20} "
          f"{'whole step':>12} {'months':>7}")
    for table, n, plain, copy, whole, months in bench_copy(ch, ddl):
        print(f"   {table:<12} {n:>12,} {plain:>20,.0f} {copy:>20,.0f} {whole:>12,.0f} {months:>7}")
        print(f"   {'':<12} {'':>12} {'(limit)':>20} {copy / plain:>19.0%} {whole / plain:>11.0%}")
    for table in repartition.CDC_TABLES:
        if table not in COPY_TABLES:
            repartition.repartition(ch, ddl, table)

    month, n, drop_s, delete_s, delete_base_s = bench_retention(ch, ddl)
    print(f"\n2. Removing one month of likes_cdc ({month}, {n:,} rows)")
    print(f"   {'ALTER TABLE ... DROP PARTITION (partitioned)':<54} {drop_s * 1000:>10.1f} ms")
    print(f"   {'ALTER TABLE ... DELETE (partitioned, mutations_sync)':<54} {delete_s * 1000:>10.1f} ms")
    print(f"   {'ALTER TABLE ... DELETE (baseline, one partition)':<54} {delete_base_s * 1000:>10.1f} ms")

    for rollup in rollups.ROLLUPS.values():
        rollups.build(ch, ddl, rollup)
    build_s, plan, request, n_plan, n_request = bench_feed(ch, ddl, args.requests, args.request_time_requests)
    print(f"\n3. Feed generation latency, limit 20 per source (candidate build for all users: {build_s:.1f}s)")
    print(f"   {'':<52} {'p50 ms':>9} {'p95 ms':>9}")
    print(f"   {f'plan 2.2 UNION ALL on candidate tables ({n_plan} requests)':<52} {plan[0]:>9.1f} {plan[1]:>9.1f}")
    print(f"   {f'candidates from CDC tables at request time ({n_request})':<52} {request[0]:>9.1f} {request[1]:>9.1f}")
    ch.close()


if __name__ == "__main__":
    main()
