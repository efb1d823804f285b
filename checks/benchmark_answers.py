"""Same answers: the new code returns what the old code returned (so a speed-up never hides a
changed answer). Each benchmark asset compares on a sample; these checks report it."""

import dagster as dg

from dbopt.workload import store
from pipelines.metadata import check_result, table_of

NEXT = {
    "message_send_1k": "The trigger's numbers are not COUNT(*) + 1 where no message was deleted: run the check "
                       "sequence_numbers_complete_and_unique and the phase1_postgres job.",
    "conversation_fetch": "member_count or last_message_id differ from a recount: rerun conversation_counters_backfill "
                          "(phase1_postgres) and check that the counter triggers are enabled.",
    "message_search": "content_tsv misses whole-word matches: content_tsv is stale; rerun content_tsv_backfill and "
                      "check the messages_content_tsv trigger.",
    "message_history": "The single query's page differs from the 3-query page: look at the offending pages; an "
                       "ORDER BY without a unique tie-breaker pages unstably.",
    "feed_generation": "The candidate tables differ from the CDC for their as_of: rebuild them (refresh_feed_candidates) "
                       "and check they were built with the default scoring.",
    "deep_pagination": "Cursor pages differ from OFFSET pages: the cursor lost precision or the ORDER BY has no "
                       "unique tie-breaker.",
    "hot_reads": "The cache returned a stale answer: a write path does not invalidate its keys (dbopt/cache.py).",
}


def answers_check(asset: str, metric: str):
    @dg.asset_check(name=f"{asset.removesuffix('_benchmark')}_answers_unchanged", asset=asset, description=(
        "The new code's answers equal the old code's on a sample (allowed differences are listed as explained); "
        "not compared while the phase's schema is missing."))
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        result = store.metric(context.run.run_id, metric)
        if result is None:
            return check_result(False, figures={"compared": 0}, next_step=f"Materialize {asset} first.")
        eq = result["equivalence"]
        figures = {"compared": eq["compared"], "different": eq["mismatch_count"], "explained": eq["explained_count"]}
        if eq["skipped"]:
            figures["not_compared"] = eq["skipped"]
        extra = {}
        if eq["explained"]:
            extra["explained_sample"] = table_of(eq["explained"][:20])
        if eq["notes"]:
            extra["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in eq["notes"]))
        return check_result(eq["passed"], figures=figures, offending=eq["mismatches"], next_step=NEXT[metric], **extra)

    return _check


message_send_answers = answers_check("message_send_benchmark", "message_send_1k")
conversation_fetch_answers = answers_check("conversation_fetch_benchmark", "conversation_fetch")
message_search_answers = answers_check("message_search_benchmark", "message_search")
message_history_answers = answers_check("message_history_benchmark", "message_history")
feed_generation_answers = answers_check("feed_generation_benchmark", "feed_generation")
deep_pagination_answers = answers_check("deep_pagination_benchmark", "deep_pagination")
query_cache_answers = answers_check("query_cache_benchmark", "hot_reads")
