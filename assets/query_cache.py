"""Phase 4, "Caching Layer": the cache-aside reader measured, and the cache warmed."""

import dagster as dg
from pydantic import Field

from dbopt.cache import TTL_S, Keys, QueryCache
from dbopt.workload import hot
from dbopt.workload import state as workload_state
from dbopt.workload.registry import CACHE_HIT_RATE, CRITERIA_MS, DB_LOAD_REDUCTION
from pipelines.failures import operator_errors
from pipelines.metadata import numbers, table_of
from pipelines.resources import PostgresResource, RedisResource
from pipelines.workload_steps import WorkloadConfig, benchmark_step, common

COMMON = common("phase4_cache", "4", {"postgres", "redis"})
TTLS = ", ".join(f"{k} {v} s" for k, v in TTL_S.items())


class QueryCacheConfig(WorkloadConfig):
    writes: int = Field(default=20, description="A quarter of this many sends into the hottest conversations "
                                                "during each pass (they invalidate; rolled back, nothing stays).")
    hot_conversations: int = Field(default=20, description="Hottest conversations (fetch and first history page).")
    hot_posts: int = Field(default=20, description="Newest posts read by id.")
    hot_p95_target_ms: float = Field(default=CRITERIA_MS["hot_query"],
                                     description="Success criterion of Phase 4: hot query p95 below this (ms).")
    hit_rate_target: float = Field(default=CACHE_HIT_RATE, description="Success criterion: cache hit rate above this.")
    load_reduction_target: float = Field(default=DB_LOAD_REDUCTION,
                                         description="Success criterion: database reads reduced by at least this.")


@dg.asset(
    **COMMON,
    description=(
        "The Phase 4 cache-aside reader (dbopt/cache.py: the plan's QueryCache with SCAN + UNLINK pattern "
        f"invalidation and per-conversation tags; TTLs {TTLS}) on the hottest entities: the same skewed stream of "
        "reads, with a few message sends that invalidate, once straight from PostgreSQL and once through Redis; "
        "hit rate, share of reads that reached PostgreSQL, latency of both. The comparison reads every entity "
        "through the cache and from PostgreSQL, before and after a send. The sends (writes / 4 per pass, plus a few "
        "for the comparison) run in transactions that are rolled back, into conversations that are not strict_e2e: "
        "the application's data is left exactly as it was. The benchmark's Redis keys use their own prefix "
        "(cache_namespace) and are removed. Rollback: none needed."
    ),
)
@operator_errors
def query_cache_benchmark(context: dg.AssetExecutionContext, config: QueryCacheConfig, postgres: PostgresResource,
                          redis: RedisResource) -> dg.MaterializeResult:
    probe = hot.HotReadsProbe(conversations=config.hot_conversations, posts=config.hot_posts)
    thresholds = {"p95_ms": config.hot_p95_target_ms, "hit_rate": config.hit_rate_target,
                  "load_reduction": config.load_reduction_target}
    return benchmark_step(context, probe, config.settings(postgres, writes=config.writes), thresholds=thresholds,
                          postgres=postgres, redis=redis)


class WarmupConfig(dg.Config):
    conversations: int = Field(default=200, description="Most recently active conversations: their fetch and the "
                                                        "first page of their history.")
    posts: int = Field(default=500, description="Newest posts, by id.")
    namespace: str = Field(default="", description="Key prefix of the application's cache (empty: the plan's keys, "
                                                   "post:<id>, conversation:<id>, ...).")


@dg.asset(
    **COMMON,
    deps=["redis_preflight"],  # issue 15: a no-go (no room in Redis) stops the warm before any write
    description=(
        "Warms the Phase 4 cache: fetches the hottest entities (the most recently active conversations, the first "
        "page of their history, the newest posts) from PostgreSQL and stores them in Redis with the plan's TTLs "
        f"({TTLS}), replacing what the cache held. The remedy for a low cache hit rate after a deploy, a flush or "
        "a failover. Reads PostgreSQL like the services do (one query per entity); writes only Redis keys that "
        "expire by themselves. Rollback: none needed (the keys expire; or UNLINK them)."
    ),
)
@operator_errors
def query_cache_warmup(context: dg.AssetExecutionContext, config: WarmupConfig, postgres: PostgresResource,
                       redis: RedisResource) -> dg.MaterializeResult:
    client = redis.client()
    cache = QueryCache(client, keys=Keys(config.namespace))
    with postgres.connector().connection() as conn:
        state = workload_state.detect(pg_conn=conn, pg_safe_url=postgres.safe_url())
        new_code = state.has("pg.sequence_number", "pg.counters")
        entities = hot.hot_entities(conn, config.conversations, config.posts)
        report = hot.warm(cache, conn, entities, new_code)
    context.log.info(f"warmed {report.keys} keys in {report.seconds:.1f} s")
    return dg.MaterializeResult(metadata={
        **numbers({"keys": report.keys, "seconds": round(report.seconds, 3),
                   "keys_per_s": round(report.keys / report.seconds, 1) if report.seconds else 0.0,
                   "code": "new (Phase 1 schema)" if new_code else "old (baseline schema)",
                   "redis_keys_total": int(client.dbsize())}),
        "by_entity": table_of([{"entity": k, "keys": v, "ttl_s": TTL_S[k]} for k, v in report.by_kind.items()]),
    })
