"""The contract's "PostgreSQL after Phase 1", checked at the end of the phase."""

import time

import dagster as dg

from dbopt.postgres import plan_queries
from pipelines.metadata import table_of
from pipelines.postgres_checks import no_invalid_indexes, triggers_enabled
from pipelines.resources import PostgresResource

ALL_TRIGGERS = (
    "set_message_sequence",
    "update_last_message_on_insert",
    "messages_content_tsv",
    "update_member_count_on_add",
    "update_member_count_on_remove",
)
MOVE_AND_TRUNCATE_TRIGGERS = (
    "set_message_sequence_on_move",
    "release_message_sequence_on_move",
    "reset_message_sequence_on_truncate",
    "update_last_message_on_move",
    "reset_last_message_on_truncate",
    "update_member_count_on_move",
    "reset_member_count_on_truncate",
)


@dg.asset_check(
    asset="phase1_postgres_contract",
    blocking=True,
    description="The plan's own 1.3, 2.1, 3.1, 3.2 queries (and the search query) run unchanged (on an ordinary "
    "conversation), and each reads the application's tables through an index, not a sequential scan or a sort of "
    "the whole table (its plan read on the worst case: the busiest conversation and author).",
)
def plan_queries_run_and_use_indexes(postgres: PostgresResource) -> dg.AssetCheckResult:
    rows = []
    render = {"ts_config": postgres.ts_config_literal()}
    with postgres.connector().connection() as conn:
        sample = plan_queries.sample_arguments(conn)  # the worst case, for the plans
        ordinary = plan_queries.ordinary_arguments(conn, sample)  # for the runs
        for query in plan_queries.PLAN_QUERIES:
            args = plan_queries.arguments_for(query, sample)
            started = time.perf_counter()
            try:
                count = plan_queries.run(conn, query, plan_queries.arguments_for(query, ordinary), render=render)
                error = ""
            except Exception as exc:  # a query that no longer runs is the finding
                conn.rollback()
                count, error = -1, str(exc).splitlines()[0][:120]
            ms = (time.perf_counter() - started) * 1000
            summary = plan_queries.explain(conn, query, args, render=render) if not error else None
            rows.append(
                {
                    "query": query.name,
                    "runs": "yes" if not error else f"NO: {error}",
                    "rows": count,
                    "ms": f"{ms:.1f}",
                    "indexes": ", ".join(sorted(set(summary.indexes))) if summary else "",
                    "sequential scans": ", ".join(summary.seq_scans) if summary else "",
                    "ok": bool(summary and summary.reads_through_indexes(query.tables)),
                }
            )
    ok = all(r["ok"] for r in rows)
    metadata = {"queries": table_of(rows)}
    if not ok:
        metadata["next_step"] = dg.MetadataValue.text(
            "A query that fails means a column or name of the contract is missing: rerun the job. A sequential "
            "scan means an index is missing or INVALID: see query_indexes_valid and rerun the job."
        )
    return dg.AssetCheckResult(passed=ok, metadata=metadata)


@dg.asset_check(
    asset="phase1_postgres_contract",
    blocking=True,
    description="Every trigger of the contract (and dbopt's content_tsv trigger) exists and is enabled.",
)
def phase1_triggers_enabled(postgres: PostgresResource) -> dg.AssetCheckResult:
    return triggers_enabled(postgres, ALL_TRIGGERS + MOVE_AND_TRUNCATE_TRIGGERS)


@dg.asset_check(
    asset="phase1_postgres_contract",
    blocking=True,
    description="No INVALID index on the application's tables.",
)
def phase1_no_invalid_indexes(postgres: PostgresResource) -> dg.AssetCheckResult:
    return no_invalid_indexes(postgres)
