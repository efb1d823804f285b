"""Issue 15: before warm_cache fills the cache, whether Redis has room for it."""

import dagster as dg
import psycopg
from pydantic import Field

from dbopt import redis_preflight as findings_redis
from dbopt import urls
from dbopt.errors import DboptError
from pipelines.failures import operator_errors
from pipelines.findings_metadata import detail_table, findings_metadata
from pipelines.metadata import preflight_group
from pipelines.resources import PostgresResource, RedisResource

D = findings_redis.Expectation()


class RedisPreflightConfig(dg.Config):
    conversations: int = Field(default=D.conversations, description=(
        "Hot conversations the cache holds (fetch, first history page, tag set each); warm_cache's default."))
    posts: int = Field(default=D.posts, description="Hot posts the cache holds; warm_cache's default.")
    expected_bytes: int = Field(default=0, description=(
        "The cache's expected size in bytes; 0 estimates it from the keys above, bytes per key sampled in Redis "
        "(MEMORY USAGE) and PostgreSQL's row counts."))
    max_share: float = Field(default=D.max_share, description=(
        "Share of maxmemory the cache may fill (above 0, at most 1); the rest is headroom."))
    namespace: str = Field(default="", description="Key prefix of the application's cache (warm_cache's namespace).")
    use_postgres_row_counts: bool = Field(default=True, description=(
        "Cap the hot set by PostgreSQL's estimated row counts (read from pg_class; skipped if PostgreSQL is not "
        "reachable or not started)."))

    def expectation(self) -> findings_redis.Expectation:
        return findings_redis.Expectation(conversations=self.conversations, posts=self.posts,
                                           expected_bytes=self.expected_bytes, max_share=self.max_share,
                                           namespace=self.namespace)


def _row_counts(postgres: PostgresResource) -> tuple[dict[str, int], str]:
    """PostgreSQL's estimated rows of conversations and posts, or why there are none (never starts a server)."""
    from dbopt.postgres import baseline
    from dbopt.postgres.connect import connect

    try:
        endpoint = urls.postgres(postgres.database_url, start=False)
        if endpoint.url is None:
            return {}, "PostgreSQL not started: hot set from config only"
        with connect(endpoint.url) as conn:
            rows = baseline.inspect(conn).estimated_rows
    except (DboptError, psycopg.Error) as exc:
        return {}, f"PostgreSQL row counts not read ({type(exc).__name__}): hot set from config only"
    return {k: int(v) for k, v in rows.items() if k in ("conversations", "posts") and v > 0}, "PostgreSQL pg_class"


@dg.asset(
    **preflight_group("redis"),
    description=(
        "Read-only readiness of Redis for the Phase 4 cache: reachable (PING), maxmemory against the cache's "
        "expected size (warm_cache's hot set, capped by PostgreSQL's row counts, times bytes per key sampled with "
        "MEMORY USAGE), and an eviction policy that can make room. Runs first in warm_cache (a no-go stops the warm "
        "before any key is written) and on its own. Writes nothing. Rollback: none needed."
    ),
)
@operator_errors
def redis_preflight(context: dg.AssetExecutionContext, config: RedisPreflightConfig, redis: RedisResource,
                    postgres: PostgresResource) -> dg.MaterializeResult:
    """A cache that cannot fit its hot set fails its writes or evicts what it just warmed."""
    exp = config.expectation().validate()
    counts, counts_source = _row_counts(postgres) if config.use_postgres_row_counts else ({}, "not asked")
    found = findings_redis.findings(redis.client, exp, counts)
    if found[0].blocks:  # unreachable or a refused REDIS_URL: the step fails with that one sentence
        raise DboptError(found[0].sentence)
    for line in findings_redis.format_findings(found):
        context.log.info(line)
    metadata = findings_metadata(found)
    memory = next(f for f in found if f.name == "redis_memory")
    metadata["expected_cache"] = detail_table(list(memory.details))
    metadata["row_counts"] = dg.MetadataValue.text(
        ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f" ({counts_source})" if counts else counts_source)
    return dg.MaterializeResult(metadata=metadata)
