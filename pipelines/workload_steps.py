"""How Dagster steps drive the workload probes (dbopt/workload): config, state, metadata.

Every benchmark step detects the state of the databases it measures, runs its probe's
patterns with bounded concurrency, compares the new code's answers with the old code's,
and records everything in the data folder (`dbopt.workload.store`) under the run id; the
checks read the figures back from there, and the report step builds the plan's table.
"""

from typing import Any

import dagster as dg
import psycopg
from pydantic import Field

from dbopt.errors import DboptError
from dbopt.postgres import baseline
from dbopt.workload import state as workload_state
from dbopt.workload import store
from dbopt.workload.measure import statement_timeout_ms
from dbopt.workload.probe import Context, Probe, Settings, measure_probe
from dbopt.workload.registry import METRICS
from pipelines.metadata import OWNERS, table_of
from pipelines.resources import ClickHouseResource, PostgresResource, RedisResource

__all__ = ["OWNERS", "WorkloadConfig", "benchmark_step", "common"]


def common(group: str, phase: str, kinds: set[str]) -> dict[str, Any]:
    return {"group_name": group, "kinds": kinds, "owners": OWNERS,
            "tags": {"phase": phase, "system": "workload"}}


MAX_STATEMENT_TIMEOUT_S = 3600


class WorkloadConfig(dg.Config):
    """How much to measure; the defaults finish in seconds on `small` data."""

    requests: int = Field(default=60, description="Timed requests per query pattern.")
    concurrency: int = Field(default=2, description="Requests in flight at once (one connection each).")
    warmup: int = Field(default=5, description="Untimed requests per pattern before the timed ones.")
    sample_size: int = Field(default=20, description="Conversations, users or pages sampled per probe.")
    seed: int = Field(default=7, description="Seed of the samples: the same seed picks the same ones on the same data.")
    zipf_s: float = Field(default=1.1, description="Skew of the repeated requests of cached patterns (Zipf).")
    cache_namespace: str = Field(default="dbopt:bench:",
                                 description="Prefix of the benchmark's Redis keys (removed after each pattern).")
    statement_timeout_s: float = Field(default=30.0, description=(
        "PostgreSQL cancels any statement of the benchmark that runs longer (a read stuck behind a lock, or too "
        "slow for the data); the step then fails with a sentence saying so."))

    def settings(self, postgres: PostgresResource | None = None, **extra: Any) -> Settings:
        """The probe's settings, checked before anything connects."""
        if not 0 < self.statement_timeout_s <= MAX_STATEMENT_TIMEOUT_S:
            raise DboptError(
                f"statement_timeout_s = {self.statement_timeout_s:g} is out of bounds: give the seconds a benchmark "
                f"query may run, above 0 (PostgreSQL reads 0 as no limit) and at most {MAX_STATEMENT_TIMEOUT_S}."
            )
        fields = {k: getattr(self, k) for k in ("requests", "concurrency", "warmup", "sample_size", "seed", "zipf_s",
                                                "cache_namespace", "statement_timeout_s")}
        if postgres is not None:
            fields["ts_config"] = postgres.ts_config_literal()
        return Settings(**fields, **extra)


def benchmark_step(
    context: dg.AssetExecutionContext,
    probe: Probe,
    settings: Settings,
    *,
    thresholds: dict[str, float],
    postgres: PostgresResource | None = None,
    clickhouse: ClickHouseResource | None = None,
    redis: RedisResource | None = None,
) -> dg.MaterializeResult:
    """Run a probe on the live databases and record its figures; metadata for the UI."""
    try:
        state, ctx = _connect(context, settings, postgres, clickhouse, redis)
        try:
            results = measure_probe(probe, ctx)
            equivalence = probe.equivalence(ctx).as_dict()
        finally:
            ctx.close()
    except psycopg.errors.QueryCanceled as exc:
        raise DboptError(
            f"PostgreSQL cancelled a query of {context.asset_key.to_user_string()} after statement_timeout_s="
            f"{settings.statement_timeout_s:g} s ({str(exc).splitlines()[0]}): a lock held on a table it reads, or "
            f"data too large for that time; nothing was changed (the benchmark's sends are rolled back). Rerun "
            f"when the lock is gone, or raise statement_timeout_s in the step's config."
        ) from None
    for result in results.values():
        result["equivalence"] = equivalence
        result["thresholds"] = thresholds
        result["state"] = state.label()
    store.record(context.run.run_id, state.as_dict(), results)
    return dg.MaterializeResult(metadata=metadata(results, equivalence, state))


def _connect(context: dg.AssetExecutionContext, settings: Settings, postgres: PostgresResource | None,
             clickhouse: ClickHouseResource | None, redis: RedisResource | None) -> tuple[workload_state.State, Context]:
    """The state of the databases, and the probe's context on them."""
    pg_url = ch = redis_client = None
    conn = None
    if postgres is not None:
        connector = postgres.connector()
        pg_url = connector.url
        conn = connector.dedicated(autocommit=True)
    try:
        if conn is not None:
            conn.execute(f"SET statement_timeout = {statement_timeout_ms(settings.statement_timeout_s)}")
            baseline.require(conn, pg_url)
        if clickhouse is not None:
            ch = clickhouse.client()
        if redis is not None:
            redis_client = redis.client()
        state = workload_state.detect(pg_conn=conn, pg_safe_url=postgres.safe_url() if postgres else "", ch=ch,
                                      redis_client=redis_client)
    finally:
        if conn is not None:
            conn.close()
    context.log.info(f"measuring on: {state.label()}")
    return state, Context(pg_url, state, settings, ch=ch, redis=redis_client, run_id=context.run.run_id,
                          log=context.log.info)


PATTERN_COLUMNS = ("pattern", "what", "p50_ms", "p95_ms", "p99_ms", "qps", "requests", "errors", "hit_rate")


def pattern_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, f in result["patterns"].items():
        rows.append({"pattern": name, "what": f["label"], "p50_ms": f["p50_ms"], "p95_ms": f["p95_ms"],
                     "p99_ms": f["p99_ms"], "qps": f["qps"], "requests": f["requests"], "errors": f["errors"],
                     "hit_rate": f"{f['hit_rate']:.0%}" if f.get("hit_rate") is not None else "-"})
    for name, why in result["skipped"].items():
        rows.append({"pattern": name, "what": f"not run: {why}"})
    return rows


def headline(result: dict[str, Any]) -> str:
    """Old pattern's median over each newer pattern's median, in this run."""
    spec = METRICS[result["metric"]]
    figures = result["patterns"]
    ordered = [p for p in dict.fromkeys(p for p in spec.patterns if p) if p in figures]
    if len(ordered) < 2:
        return "only one pattern could run here"
    first = figures[ordered[0]]["p50_ms"]
    return ", ".join(f"{p} {first / figures[p]['p50_ms']:,.1f}x" for p in ordered[1:] if figures[p]["p50_ms"])


def metadata(results: dict[str, dict[str, Any]], equivalence: dict[str, Any],
             state: workload_state.State) -> dict[str, dg.MetadataValue]:
    out: dict[str, dg.MetadataValue] = {
        "database_state": dg.MetadataValue.text(state.label()),
        "patterns_measured": dg.MetadataValue.int(sum(len(r["patterns"]) for r in results.values())),
    }
    for key, result in results.items():
        out[key] = table_of(pattern_rows(result), PATTERN_COLUMNS)
        out[f"{key}.summary"] = dg.MetadataValue.text(
            f"{result['title']}: {result['sample']}; old code / new code (medians): {headline(result)}")
        for name, f in result["patterns"].items():
            if f.get("p95_ms") is not None:
                out[f"{key}.{name}.p95_ms"] = dg.MetadataValue.float(float(f["p95_ms"]))
    out["answers_compared"] = dg.MetadataValue.int(equivalence["compared"])
    out["answers_different"] = dg.MetadataValue.int(equivalence["mismatch_count"])
    if equivalence["skipped"]:
        out["comparison"] = dg.MetadataValue.text(f"not compared: {equivalence['skipped']}")
    if equivalence["notes"]:
        out["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in equivalence["notes"]))
    return out
