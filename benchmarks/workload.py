"""Benchmark of the plan's promises (not a test): `workload_benchmark` before and after Phase 1.

From one run of this process, one after the other, on the same data:
  1. the `workload_benchmark` job on a copy of the seeded baseline (the old code, old schema);
  2. the `phase1_postgres` and `phase1_clickhouse` jobs;
  3. `workload_benchmark` again (the code of Phases 1-4 on the Phase 1 schemas);
then prints the plan's targets table, p50/p95/p99 and queries per second of every query
pattern on both sides, the ratio measured for each of the plan's claims next to the claim,
and the success criteria met or not. With --explain, EXPLAIN (ANALYZE, BUFFERS) of the old
and new queries behind the claims, before Phase 1 and after it.

    .venv/bin/python benchmarks/workload.py --scale medium --explain

Uses the embedded PostgreSQL and Redis (or --url, --redis-url): a database cloned from the
template dbopt_bench_<scale> (seeded once; benchmarks/postgres_phase1.py uses it too), and a
chDB folder of its own (seeded unless --keep finds it seeded). The runs' figures are kept
in <data folder>/bench-workload/reports/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

import psycopg  # noqa: E402

from benchmarks.common import admin_url, clone, seeded_template  # noqa: E402
from dbopt.paths import data_dir  # noqa: E402

SEND_ASSETS = ("message_send_benchmark", "query_cache_benchmark")
STEPS = ("message_send_benchmark", "conversation_fetch_benchmark", "message_search_benchmark",
         "message_history_benchmark", "feed_generation_benchmark", "deep_pagination_benchmark",
         "query_cache_benchmark")


ARRIVAL_ORDER = (  # messages rewritten in created_at order, as a live table holds them
    "CREATE INDEX dbopt_bench_arrival ON messages (created_at, id)",
    "CLUSTER messages USING dbopt_bench_arrival",
    "DROP INDEX dbopt_bench_arrival",
)


def clickhouse_seeded(url: str, scale: str, keep: bool) -> None:
    """The CDC tables at `scale` in the chDB folder, as `dbopt seed` leaves them."""
    from dbopt.clickhouse import catalog
    from dbopt.clickhouse.client import connect
    from dbopt.seed import seed
    from dbopt.seed.scales import scale_for

    with connect(url) as ch:
        seeded = catalog.table(ch, "likes_cdc")
        if keep and seeded and not seeded.monthly and not catalog.table(ch, "feed_candidates_followees"):
            return
        print(f"seeding {scale} CDC events into chDB ...", flush=True)
        seed(None, ch, scale_for(scale), reset=True, progress=lambda _: None)


def run_config(args: argparse.Namespace) -> dict[str, Any]:
    common = {"requests": args.requests, "concurrency": args.concurrency, "sample_size": args.sample_size}
    ops: dict[str, Any] = {name: {"config": dict(common)} for name in STEPS}
    for name in SEND_ASSETS:
        ops[name]["config"]["writes"] = args.writes
    ops["message_send_benchmark"]["config"]["concurrency"] = 1  # sends into one conversation queue anyway
    ops["feed_generation_benchmark"]["config"].update(slow_requests=args.slow_requests, concurrency=1)
    return {"ops": ops}


def execute(job: str, resources: dict[str, Any], run_config: dict[str, Any] | None = None):
    from dbopt.cli import QUIET_LOGS
    from pipelines.definitions import defs

    started = time.perf_counter()
    result = defs.resolve_job_def(job).execute_in_process(
        resources=resources, run_config={**QUIET_LOGS, **(run_config or {})}, raise_on_error=False)
    seconds = time.perf_counter() - started
    failures = [e.message for e in result.all_events if e.is_failure]
    print(f"  {job}: {'succeeded' if result.success else 'FAILED'} in {seconds:.0f} s (run {result.run_id[:8]})",
          flush=True)
    if not result.success:
        raise SystemExit(f"{job} failed: {failures[-1][:500] if failures else 'see above'}")
    return result


def check_rows(result) -> list[dict[str, Any]]:
    rows = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data.check_name.endswith("_within_target") or data.check_name in (
                    "cache_hit_rate_above_target", "database_load_reduced"):
                md = {k: v.value for k, v in data.metadata.items() if isinstance(v.value, (int, float))}
                rows.append({"criterion": data.check_name, "met": "yes" if data.passed else "**no**",
                             "figures": ", ".join(f"{k} {v:g}" for k, v in md.items())})
    return rows


# --- EXPLAIN (ANALYZE, BUFFERS) of the queries behind the claims ------------------------------


def explain(conn: psycopg.Connection, name: str, values: dict[str, Any], render: dict[str, str] | None = None,
            rollback: bool = False) -> list[str]:
    from dbopt.postgres import sqlrun
    from dbopt.workload import queries

    stmt, names = queries._statement(f"{queries.PG}/{name}.sql", tuple(sorted((render or {}).items())))
    with conn.transaction(force_rollback=rollback):
        cur = sqlrun.execute(conn, "EXPLAIN (ANALYZE, BUFFERS) " + stmt, list(names), values)
        return [r[0] for r in cur.fetchall()]


def explain_claims(url: str, ts_config: str, phase1: bool, max_lines: int) -> None:
    import uuid

    from dbopt.postgres import plan_queries
    from dbopt.workload import samples, service

    with psycopg.connect(url, autocommit=True) as conn:
        convs = samples.conversations(conn)
        large = samples.largest(convs)
        k1 = samples.closest(convs, 1000, exclude=large)
        small = samples.closest([c for c in convs if c.privacy_mode != "strict_e2e"], 50)
        cursor_row = service.messages_offset(conn, large.id, 1, 99 * 50 - 1)[0]
        page_ids = [m["id"] for m in service.messages_offset(conn, k1.id, 100, 0)]
        cases: list[tuple[str, str, dict[str, Any], dict[str, str] | None, bool]] = [
            ("send, old: COUNT(*) of the largest conversation", "before_send_count",
             {"conversation_id": large.id}, None, False),
            ("send, old: COUNT(*) of the 1k conversation", "before_send_count",
             {"conversation_id": k1.id}, None, False),
            ("fetch, old: subqueries (largest conversation)", "before_conversation_fetch",
             {"conversation_id": large.id}, None, False),
            ("search, old: ILIKE 'deploy' (largest conversation)", "before_search_ilike",
             {"conversation_id": large.id, "query": "deploy", "limit": 20}, None, False),
            ("search, old: ILIKE 'zorvexa' (largest conversation, a rare word)", "before_search_ilike",
             {"conversation_id": large.id, "query": "zorvexa", "limit": 20}, None, False),
            (f"search, old: ILIKE 'deploy' (a conversation of {small.messages} messages)", "before_search_ilike",
             {"conversation_id": small.id, "query": "deploy", "limit": 20}, None, False),
            ("history, old: the page (1k conversation)", "before_history_messages",
             {"conversation_id": k1.id, "limit": 100, "offset": 0}, None, False),
            ("history, old: its reactions", "before_history_reactions",
             {"message_ids": page_ids, "user_id": k1.reader}, None, False),
            ("history, old: its attachments", "before_history_attachments", {"message_ids": page_ids}, None, False),
            ("pagination, old: OFFSET page 100 (largest conversation)", "before_messages_offset",
             {"conversation_id": large.id, "limit": 50, "offset": 99 * 50}, None, False),
        ]
        if phase1:
            cases += [
                ("send, new: INSERT through the triggers (largest conversation; rolled back)", "send_insert",
                 {"id": uuid.uuid4(), "conversation_id": large.id, "sender_id": large.reader,
                  "content": service.BENCH_CONTENT}, None, True),
                ("fetch, new: denormalized row", "plan_1_3_conversation_fetch", {"conversation_id": large.id},
                 None, False),
                ("search, new: content_tsv @@ 'deploy'", "message_search",
                 {"conversation_id": large.id, "query": "deploy", "limit": 20}, {"ts_config": ts_config}, False),
                ("search, new: content_tsv @@ 'zorvexa'", "message_search",
                 {"conversation_id": large.id, "query": "zorvexa", "limit": 20}, {"ts_config": ts_config}, False),
                (f"search, new: content_tsv @@ 'deploy' (a conversation of {small.messages} messages)",
                 "message_search", {"conversation_id": small.id, "query": "deploy", "limit": 20},
                 {"ts_config": ts_config}, False),
                ("history, new: 2.1 single query, page selected first", "after_history_paged",
                 {"conversation_id": k1.id, "user_id": k1.reader, "after_created_at": service.FLOOR.created_at,
                  "after_id": service.FLOOR.id, "limit": 100, "offset": 0}, None, False),
                ("history, new: 2.1 as the plan writes it (aggregates the conversation, then LIMIT)",
                 "plan_2_1_message_history",
                 {"conversation_id": k1.id, "user_id": k1.reader, "after_created_at": service.FLOOR.created_at,
                  "after_id": service.FLOOR.id, "limit": 100, "offset": 0}, plan_queries.STABLE_PAGES, False),
                ("pagination, new: 3.2 cursor, page 100", "plan_3_2_messages_cursor_next_page",
                 {"conversation_id": large.id, "cursor_created_at": cursor_row["created_at"],
                  "cursor_id": cursor_row["id"], "limit": 50}, None, False),
            ]
        print(f"\nEXPLAIN (ANALYZE, BUFFERS), {'after' if phase1 else 'before'} Phase 1 "
              f"(largest conversation {large.messages:,} messages, 1k conversation {k1.messages:,})")
        for label, name, values, render, rollback in cases:
            explain(conn, name, values, render, rollback)  # once to warm the cache, like the timed runs
            lines = explain(conn, name, values, render, rollback)
            print(f"\n-- {label} (sql/postgres/queries/{name}.sql)")
            shown = lines[:max_lines] + [line for line in lines[max_lines:] if "Time:" in line or "Trigger" in line]
            print("\n".join(f"   {line[:160]}{' ...' if len(line) > 160 else ''}" for line in shown))


# --- printing ---------------------------------------------------------------------------------


def pattern_rows(runs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pattern measured, before Phase 1 and after it."""
    from dbopt.workload.registry import METRICS

    rows = []
    for key, spec in METRICS.items():
        for side, run in runs.items():
            result = run["metrics"].get(key)
            if not result:
                continue
            for name, f in result["patterns"].items():
                rows.append({"metric": spec.title, "side": side, "pattern": name, "p50 ms": f["p50_ms"],
                             "p95 ms": f["p95_ms"], "p99 ms": f["p99_ms"], "qps": f["qps"],
                             "requests": f["requests"], "errors": f["errors"],
                             "hit rate": f"{f['hit_rate']:.0%}" if f.get("hit_rate") is not None else ""})
    return rows


def claim_rows(runs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each claim's ratio of medians and of p95s two ways: from the baseline (the old code
    before Phase 1 against the claim's new code after it: what the whole rollout up to that
    change gives), and for the change alone (the claim's old and new code, both in the run
    after Phase 1, on the same schema)."""
    from dbopt.workload.registry import CLAIMS, METRICS

    def figures(side: str, metric: str, pattern: str | None) -> dict[str, Any]:
        result = (runs[side] or {}).get("metrics", {}).get(metric) or {}
        return result.get("patterns", {}).get(pattern or "") or {}

    def ratio(a: dict[str, Any], b: dict[str, Any], key: str) -> str:
        return f"{a[key] / b[key]:,.1f}x" if a.get(key) and b.get(key) else "-"

    rows = []
    for c in CLAIMS:
        spec = METRICS[c.metric]
        old_pattern, new_pattern = spec.patterns[c.old], c.new_pattern or spec.patterns[c.new]
        baseline = figures("before", c.metric, spec.patterns[0])
        old_after, new = figures("after", c.metric, old_pattern), figures("after", c.metric, new_pattern)
        rows.append({"plan": c.section, "claim": c.what, "plan says": c.plan,
                     "from baseline p50": ratio(baseline, new, "p50_ms"),
                     "from baseline p95": ratio(baseline, new, "p95_ms"),
                     "change alone p50": ratio(old_after, new, "p50_ms"),
                     "change alone p95": ratio(old_after, new, "p95_ms"),
                     "patterns": f"{old_pattern} -> {new_pattern}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--url", help="superuser URL of a PostgreSQL server (default: the embedded one)")
    parser.add_argument("--redis-url", help="a Redis database (default: the embedded one)")
    parser.add_argument("--folder", help="chDB folder of its own (default: <data folder>/bench-workload/clickhouse)")
    parser.add_argument("--keep", action="store_true", help="reuse the chDB folder's seeded CDC tables")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per pattern")
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight (reads)")
    parser.add_argument("--sample-size", type=int, default=20)
    parser.add_argument("--writes", type=int, default=100, help="messages sent per send pattern")
    parser.add_argument("--slow-requests", type=int, default=10, help="timed feed requests computed from the CDC")
    parser.add_argument("--arrival-order", action="store_true",
                        help="store messages in arrival (created_at) order, as a live table holds them")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) the claims' queries")
    parser.add_argument("--explain-lines", type=int, default=14, help="plan lines shown per query")
    args = parser.parse_args()

    from dbopt.embedded.redis import EmbeddedRedis

    admin = admin_url(args.url)
    redis_url = args.redis_url or EmbeddedRedis.default().ensure_running()
    home = data_dir() / "bench-workload"
    folder = Path(args.folder or home / "clickhouse").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["DBOPT_HOME"] = str(home)  # the runs' figures and report, apart from the demo's

    from dbopt.cli import DEMO_CONFIG
    from dbopt.workload import report, store
    from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource

    # The seed writes each conversation's messages together, on few heap pages; a live table
    # holds them in arrival order, interleaved with every other conversation's.
    url = clone(admin, seeded_template(admin, args.scale), "dbopt_bench_workload",
                *(ARRIVAL_ORDER if args.arrival_order else ()))
    ch_url = f"chdb://{folder}?database=bench"
    clickhouse_seeded(ch_url, args.scale, args.keep)
    postgres = PostgresResource(database_url=url)
    resources = {"postgres": postgres, "clickhouse": ClickHouseResource(clickhouse_url=ch_url),
                 "redis": RedisResource(redis_url=redis_url)}
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    load = os.getloadavg()
    layout = "messages in arrival order" if args.arrival_order else "messages as seeded (grouped by conversation)"
    print(f"PostgreSQL {version}, {messages:,} messages ({args.scale}, {layout}); chDB in {folder}; {os.cpu_count()} cores; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
          flush=True)
    print(f"{args.requests} requests per pattern, {args.concurrency} in flight; {args.writes} sends per send "
          f"pattern; {args.slow_requests} feed requests computed from the CDC\n", flush=True)

    config = run_config(args)
    print("1. before Phase 1", flush=True)
    before = execute("workload_benchmark", resources, config)
    if args.explain:
        explain_claims(url, postgres.ts_config_literal(), phase1=False, max_lines=args.explain_lines)
    print("\n2. Phase 1", flush=True)
    execute("phase1_postgres", resources)
    execute("phase1_clickhouse", resources, DEMO_CONFIG["phase1_clickhouse"])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as after any migration; the baseline copy was vacuumed too
    print("\n3. after Phase 1", flush=True)
    after = execute("workload_benchmark", resources, config)
    if args.explain:
        explain_claims(url, postgres.ts_config_literal(), phase1=True, max_lines=args.explain_lines)

    built = report.build(store.load())
    print(f"\n{report.markdown(built)}")
    runs = {"before": store.run(before.run_id), "after": store.run(after.run_id)}
    print("### Each claim from the baseline, and for the change alone\n")
    print(report.md(claim_rows(runs)))
    print("\n### Every pattern, both sides\n")
    print(report.md(pattern_rows(runs)))
    print("\n### Success criteria (after Phase 1: the new code)\n")
    print(report.md(check_rows(after)))
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"report file: {store.reports_dir() / 'workload_benchmark.md'}")
    (store.reports_dir() / "workload_benchmark.md").write_text(report.markdown(built))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "dbopt_bench_workload" WITH (FORCE)')


if __name__ == "__main__":
    main()
