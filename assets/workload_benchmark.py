"""The plan's promises, measured: Phase 1.1/1.3 probes and the targets table.

Each benchmark asset runs the services' old and new query patterns against the live
databases, as far as their state allows (before Phase 1 only the old code runs), and
records its figures in the data folder; `workload_benchmark_report` builds the plan's
"Load Testing Targets" table from the latest run before Phase 1 and the latest after it.
"""

import dagster as dg
from pydantic import Field

from dbopt.workload import report as workload_report
from dbopt.workload import store
from dbopt.workload.messaging import ConversationFetchProbe, MessageSearchProbe, MessageSendProbe
from dbopt.workload.registry import CRITERIA_MS
from pipelines.failures import operator_errors
from pipelines.metadata import table_of
from pipelines.resources import PostgresResource, RedisResource
from pipelines.workload_steps import WorkloadConfig, benchmark_step, common

COMMON = common("workload_benchmark", "1", {"postgres"})
READS_ONLY = " Reads only: no lock beyond a reader's, nothing to roll back."


class MessageSendConfig(WorkloadConfig):
    concurrency: int = Field(default=1, description=(
        "Sends in flight at once, all into the same conversation. After Phase 1 they queue on the conversation's "
        "row lock (the trigger's counter), so above 1 this measures that queue as much as a send."))
    writes: int = Field(default=20, description="Sends per pattern and conversation (each rolled back).")
    p95_target_ms: float = Field(default=CRITERIA_MS["message_send"],
                                 description="Success criterion of Phase 1: message send p95 below this (ms).")


@dg.asset(
    **COMMON,
    description=(
        "Message send (plan 1.3) in the conversation closest to 1,000 messages and in the largest one: the OLD CODE "
        "(SELECT COUNT(*) then INSERT) against the NEW CODE (INSERT, numbered by the set_message_sequence trigger, "
        "read back), and the new code with Phase 4's cache invalidation. Each send is the service's whole send (the "
        "conversation's row lock, the triggers, the read back) in a transaction that is then ROLLED BACK instead of "
        "committed: timed up to the commit, it leaves no message, no counter and no last_message_* change behind. "
        "`writes` (default 20) per pattern and conversation; never into a strict_e2e conversation. The comparison "
        "of answers (COUNT(*) + 1 against the trigger's number) runs the same way. Rollback: none needed, nothing "
        "stays."
    ),
)
@operator_errors
def message_send_benchmark(context: dg.AssetExecutionContext, config: MessageSendConfig, postgres: PostgresResource,
                           redis: RedisResource) -> dg.MaterializeResult:
    return benchmark_step(context, MessageSendProbe(), config.settings(postgres, writes=config.writes),
                          thresholds={"p95_ms": config.p95_target_ms}, postgres=postgres, redis=redis)


@dg.asset(
    **COMMON,
    description=(
        "Conversation fetch (plan 1.3): the OLD CODE's member COUNT and last-message subqueries against the "
        "denormalized row of Phase 1 (member_count, last_message_id), and that row behind the cache (TTL 2 min), on "
        "random conversations and the largest one." + READS_ONLY
    ),
)
@operator_errors
def conversation_fetch_benchmark(context: dg.AssetExecutionContext, config: WorkloadConfig,
                                 postgres: PostgresResource, redis: RedisResource) -> dg.MaterializeResult:
    return benchmark_step(context, ConversationFetchProbe(), config.settings(postgres), thresholds={},
                          postgres=postgres, redis=redis)


class SearchConfig(WorkloadConfig):
    terms: list[str] = Field(default=["deploy", "invoice", "zorvexa", "quillomir"],
                             description="Words searched (frequent and rare ones).")


@dg.asset(
    **COMMON,
    description=(
        "Message search (plan 1.1): content ILIKE '%term%' (a scan of the conversation's messages) against "
        "content_tsv @@ plainto_tsquery through the GIN index, in the largest conversation and random ones. The "
        "comparison allows only the two semantics' differences (a substring inside a longer word; another form of "
        "a word)." + READS_ONLY
    ),
)
@operator_errors
def message_search_benchmark(context: dg.AssetExecutionContext, config: SearchConfig,
                             postgres: PostgresResource) -> dg.MaterializeResult:
    return benchmark_step(context, MessageSearchProbe(tuple(config.terms)), config.settings(postgres), thresholds={},
                          postgres=postgres)


BENCHMARKS = ["message_send_benchmark", "conversation_fetch_benchmark", "message_search_benchmark",
              "message_history_benchmark", "feed_generation_benchmark", "deep_pagination_benchmark",
              "query_cache_benchmark"]


@dg.asset(
    group_name="workload_benchmark",
    kinds={"markdown"},
    owners=COMMON["owners"],
    tags=COMMON["tags"],
    deps=BENCHMARKS,
    description=(
        "The plan's Load Testing Targets table with our figures (p95 per phase, the plan's target beside it), the "
        "ratio measured for each of the plan's claims, and whether the new code gave the old code's answers. Built "
        "from the latest run on a database before Phase 1 and the latest after it, on the same data; written to "
        "<data folder>/reports/workload_benchmark.md. Touches no database."
    ),
)
@operator_errors
def workload_benchmark_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    built = workload_report.build(store.load())
    text = workload_report.markdown(built)
    path = store.reports_dir() / "workload_benchmark.md"
    path.write_text(text)
    figures = workload_report.numbers(built)
    metadata: dict[str, dg.MetadataValue] = {
        "report": dg.MetadataValue.md(text),
        "path": dg.MetadataValue.path(str(path)),
        "claims": table_of(workload_report.claims(built)),
    }
    if figures:
        metadata["figures"] = dg.MetadataValue.table(
            records=[dg.TableRecord(f) for f in figures],
            schema=dg.TableSchema(columns=[
                dg.TableColumn("metric", "string"), dg.TableColumn("column", "string"),
                dg.TableColumn("pattern", "string"), dg.TableColumn("p50_ms", "float"),
                dg.TableColumn("p95_ms", "float"), dg.TableColumn("p99_ms", "float"), dg.TableColumn("qps", "float"),
                dg.TableColumn("requests", "int"),
                dg.TableColumn("run", "string")]))
        # Numeric metadata is plotted per materialization in the asset's page (one series per figure).
        for f in figures:
            if f["p95_ms"] is not None:
                name = f"p95_ms/{f['metric']}/{f['column'].lower().replace(' ', '_')}"
                metadata[name] = dg.MetadataValue.float(float(f["p95_ms"]))
    context.log.info(f"report written to {path}")
    return dg.MaterializeResult(metadata=metadata)
