"""The contract's "PostgreSQL after Phase 1", checked at the end of the phase."""

import time
from collections.abc import Iterator

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


# The contract's three checks run as one step (each is still its own check with its own result):
# Dagster's own work per step costs a rerun more than these catalog reads.
SPECS = {
    "plan_queries_run_and_use_indexes": "The plan's own 1.3, 2.1, 3.1, 3.2 queries (and the search query) run "
    "unchanged (on an ordinary conversation), and each reads the application's tables through an index, not a "
    "sequential scan or a sort of the whole table (its plan read on the worst case: the busiest conversation and "
    "author).",
    "phase1_triggers_enabled": "Every trigger of the contract (and dbopt's content_tsv trigger) exists and is enabled.",
    "phase1_no_invalid_indexes": "No INVALID index on the application's tables.",
}


@dg.multi_asset_check(
    name="phase1_postgres_contract_checks",
    specs=[dg.AssetCheckSpec(name, asset="phase1_postgres_contract", blocking=True, description=description)
           for name, description in SPECS.items()],
    can_subset=True,
)
def phase1_postgres_contract_checks(
    context: dg.AssetCheckExecutionContext, postgres: PostgresResource
) -> Iterator[dg.AssetCheckResult]:
    bodies = {
        "plan_queries_run_and_use_indexes": plan_queries_run_and_use_indexes,
        "phase1_triggers_enabled": phase1_triggers_enabled,
        "phase1_no_invalid_indexes": phase1_no_invalid_indexes,
    }
    for key in sorted(context.selected_asset_check_keys, key=lambda k: list(SPECS).index(k.name)):
        yield bodies[key.name](postgres)._replace(asset_key=key.asset_key, check_name=key.name)


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


def phase1_triggers_enabled(postgres: PostgresResource) -> dg.AssetCheckResult:
    return triggers_enabled(postgres, ALL_TRIGGERS + MOVE_AND_TRUNCATE_TRIGGERS)


def phase1_no_invalid_indexes(postgres: PostgresResource) -> dg.AssetCheckResult:
    return no_invalid_indexes(postgres)
