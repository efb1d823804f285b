"""Phase 1.2 and 2.2 probe: feed generation on ClickHouse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dbopt.errors import DboptError
from dbopt.workload import queries, service
from dbopt.workload.probe import Context, Equivalence, Pattern, Probe, cycle, zipf
from dbopt.workload.state import CH_CDC

C = queries.CH
LIMIT = 20  # candidates per source, as the benchmark of docs/clickhouse.md
SCORE = {"followees": "combined_score", "trending": "combined_score", "affinity": "affinity_score"}
FIELDS = ("author_id", "likes", "comments", "shares", "impressions", "freshness_score", "engagement_score",
          "affinity_score", "combined_score")


def by_source(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in service.FEED_SOURCES}
    for r in rows:
        out[r["source"]].append(r)
    return out


def _value(v: Any) -> Any:
    return round(v, 9) if isinstance(v, float) else str(v)


def compare_top(old: list[dict[str, Any]], new: list[dict[str, Any]], score: str, limit: int) -> str:
    """Two top-`limit` lists by `score` hold the same candidates. Rows whose score ties the
    last one of a full list may differ (either query may pick any of the tied rows); their
    number and scores may not."""
    if len(old) != len(new):
        return f"{len(old)} candidates before, {len(new)} after"
    scores_old = sorted(round(r[score], 9) for r in old)
    scores_new = sorted(round(r[score], 9) for r in new)
    if scores_old != scores_new:
        return f"{score} values differ"
    cut = scores_old[0] if len(old) == limit and old else None
    keep_old = {str(r["post_id"]): r for r in old if cut is None or round(r[score], 9) > cut}
    keep_new = {str(r["post_id"]): r for r in new if cut is None or round(r[score], 9) > cut}
    if keep_old.keys() != keep_new.keys():
        return f"other posts: {sorted(keep_old.keys() ^ keep_new.keys())[:3]}"
    for pid, a in keep_old.items():
        b = keep_new[pid]
        diff = [f for f in FIELDS if _value(a[f]) != _value(b[f])]
        if diff:
            return f"post {pid} differs in {', '.join(diff)}"
    return ""


class FeedProbe(Probe):
    metrics = ("feed_generation",)

    def __init__(self, equivalence_users: int = 5) -> None:
        self.equivalence_users = equivalence_users  # each costs three CDC computations

    def prepare(self, ctx: Context) -> None:
        if not ctx.state.has("ch.cdc"):
            raise DboptError(
                f"ClickHouse ({ctx.state.dataset.get('clickhouse', 'CLICKHOUSE_URL')}) has none or only some of the "
                f"CDC tables ({', '.join(CH_CDC)}); point CLICKHOUSE_URL at the feed's database, or seed one with "
                f"`dbopt seed`, then run the benchmark again."
            )
        as_of = None
        if ctx.state.has("ch.candidates"):
            as_of = queries.ch(ctx.ch, "candidates_as_of")[0]["as_of"]
        self.as_of: datetime = as_of or datetime.now(UTC).replace(second=0, microsecond=0)
        rows = queries.ch(ctx.ch, "feed_users", {"n": ctx.settings.sample_size, "seed": ctx.settings.seed})
        self.users = [r["user_id"] for r in rows]

    def describe(self, metric: str) -> str:
        return (f"{len(self.users)} users, {LIMIT} candidates per source, as of {self.as_of:%Y-%m-%d %H:%M} UTC "
                f"(the candidate tables' as_of when they exist)")

    def patterns(self, ctx: Context, metric: str) -> dict[str, Pattern]:
        as_of = self.as_of

        def cached(s, user) -> Any:
            return s.cache.cached("feed", s.cache.keys.feed(user, LIMIT), lambda: service.feed_union(s.ch, user, LIMIT))

        before = tuple(f"{C}/before_feed_{x}.sql" for x in service.FEED_SOURCES)
        split = tuple(f"{C}/split_feed_{x}.sql" for x in service.FEED_SOURCES)
        union = ("clickhouse/phase1/feed_candidates/plan_2_2_feed_candidates.sql",)
        return {
            "cdc_three_queries": Pattern("cdc_three_queries", "3 queries computed from the CDC tables (before 1.2)",
                                         lambda s, user: service.feed_old(s.ch, user, LIMIT, as_of),
                                         needs=("ch.cdc",), sql=before, clickhouse=True, slow=True),
            "candidates_three_queries": Pattern(
                "candidates_three_queries", "3 queries on the candidate tables (1.2, before 2.2)",
                lambda s, user: service.feed_split(s.ch, user, LIMIT), needs=("ch.candidates",), sql=split,
                clickhouse=True),
            "union_all": Pattern("union_all", "one UNION ALL on the candidate tables (2.2)",
                                 lambda s, user: service.feed_union(s.ch, user, LIMIT), needs=("ch.candidates",),
                                 sql=union, clickhouse=True),
            "union_all_cached": Pattern("union_all_cached", "2.2 behind the cache (TTL 1 min)", cached,
                                        needs=("ch.candidates", "redis"), sql=union, clickhouse=True, cached=True),
        }

    def requests(self, ctx: Context, metric: str, pattern: Pattern) -> list[Any]:
        if pattern.cached:
            return zipf(self.users, ctx.settings.requests, ctx.settings.zipf_s, ctx.rng("feed-zipf"))
        if pattern.slow:
            return cycle(self.users, ctx.settings.slow_requests)
        return cycle(self.users, ctx.settings.requests)

    def equivalence(self, ctx: Context) -> Equivalence:
        """For each sampled user: the candidates computed from the CDC tables for the
        tables' as_of equal the plan's 2.2 query on the tables (source by source, tolerant of
        ties at the last place); the three separate queries equal the UNION ALL."""
        eq = Equivalence()
        if not ctx.state.has("ch.candidates"):
            eq.skipped = "Phase 1.2 not applied: only the old code runs here"
            return eq
        for user in self.users[: self.equivalence_users]:
            old = by_source(service.feed_old(ctx.ch, user, LIMIT, self.as_of))
            union = by_source(service.feed_union(ctx.ch, user, LIMIT))
            split = by_source(service.feed_split(ctx.ch, user, LIMIT))
            eq.compared += 1
            for source in service.FEED_SOURCES:
                why = compare_top(old[source], union[source], SCORE[source], LIMIT)
                if why:
                    eq.mismatches.append({"user": user, "source": source, "pattern": "CDC vs 2.2", "why": why})
                why = compare_top(split[source], union[source], SCORE[source], LIMIT)
                if why:
                    eq.mismatches.append({"user": user, "source": source, "pattern": "3 queries vs 2.2", "why": why})
        eq.notes.append("the candidate tables are compared with the CDC computed for their as_of and the default "
                        "scoring; a build with other scoring settings differs by design")
        return eq
