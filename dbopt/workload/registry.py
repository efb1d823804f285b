"""The plan's figures: its "Load Testing Targets" table, its success criteria and the
improvement it expects from each change, and which query pattern stands for each phase.

Columns of the targets table are phases: "Before" is the old code on a database before
Phase 1; "Phase 1" the code of plan 1.3 on the Phase 1 schema; "Phase 2" adds 2.1/2.2;
"Phase 3" the cursor pagination of 3.1/3.2; "Phase 4" the cache of 4.1-4.3. A pattern that
a phase does not change carries over from the phase before.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = ("Before", "Phase 1", "Phase 2", "Phase 3", "Phase 4")


@dataclass(frozen=True)
class MetricSpec:
    key: str
    title: str
    system: str  # whose Phase 1 makes the "after" patterns possible: postgres or clickhouse
    patterns: tuple[str | None, ...]  # the pattern of each column (None: not measured)
    targets: tuple[str, ...] | None = None  # the plan's figures, when the plan has a row
    note: str = ""


METRICS: dict[str, MetricSpec] = {
    m.key: m
    for m in (
        MetricSpec("message_send_1k", "Message send (1k conv)", "postgres",
                   ("count_then_insert", "trigger_insert", "trigger_insert", "trigger_insert", "insert_invalidate"),
                   ("200ms", "20ms", "15ms", "15ms", "10ms")),
        MetricSpec("message_send_large", "Message send (largest conv)", "postgres",
                   ("count_then_insert", "trigger_insert", "trigger_insert", "trigger_insert", "insert_invalidate"),
                   note="the plan's claim of 100-1000x is about large conversations"),
        MetricSpec("message_history", "Message history (100msg)", "postgres",
                   ("three_queries", "three_queries", "single_query", "single_query_cursor", "cursor_cached"),
                   ("300ms", "250ms", "100ms", "90ms", "30ms")),
        MetricSpec("feed_generation", "Feed generation", "clickhouse",
                   ("cdc_three_queries", "candidates_three_queries", "union_all", "union_all", "union_all_cached"),
                   ("500ms", "100ms", "50ms", "50ms", "20ms")),
        MetricSpec("deep_pagination", "Deep pagination (p100)", "postgres",
                   ("offset", "offset", "offset", "cursor", "cursor_cached"),
                   ("1000ms+", "800ms", "600ms", "50ms", "20ms"),
                   note="messages of the largest conversation, 50 per page, page 100"),
        MetricSpec("conversation_fetch", "Conversation fetch", "postgres",
                   ("subqueries", "denormalized", "denormalized", "denormalized", "denormalized_cached"),
                   ("100ms", "30ms", "25ms", "25ms", "10ms")),
        MetricSpec("deep_pagination_last", "Deep pagination (last page)", "postgres",
                   ("offset", "offset", "offset", "cursor", None),
                   note="the plan's criterion is < 50 ms p95 at any page"),
        MetricSpec("deep_pagination_posts", "Posts pagination (p100)", "postgres",
                   ("offset", "offset", "offset", "cursor", "cursor_cached"),
                   note="plan 3.1: the busiest author's posts, 20 per page, page 100"),
        MetricSpec("message_search", "Message search (largest conv)", "postgres",
                   ("ilike", "tsvector", "tsvector", "tsvector", None)),
        MetricSpec("message_search_random", "Message search (random convs)", "postgres",
                   ("ilike", "tsvector", "tsvector", "tsvector", None)),
        MetricSpec("hot_reads", "Hot reads, mixed (Phase 4)", "postgres",
                   (None, None, None, "uncached", "cached"),
                   note="conversation fetch, first history page and post by id of the hottest entities, Zipf; "
                        "a few sends that invalidate"),
    )
}


@dataclass(frozen=True)
class Claim:
    section: str
    what: str
    plan: str  # as the plan says it
    low: float  # the plan's range as ratios (old / new)
    high: float
    metric: str
    old: int  # column index of the old figure
    new: int  # column index of the new figure
    new_pattern: str | None = None  # a pattern measured beside the table's (same run as the new column)


CLAIMS = (
    Claim("1.1", "Message send, large conversation", "100-1000x faster", 100, 1000, "message_send_large", 0, 1),
    Claim("1.1", "Message send, 1k conversation", "100-1000x faster (200 -> 20 ms in the table)", 10, 1000,
          "message_send_1k", 0, 1),
    Claim("1.1", "Conversation queries", "3-5x faster", 3, 5, "conversation_fetch", 0, 1),
    Claim("1.1", "Message search", "100-1000x faster", 100, 1000, "message_search", 0, 1),
    Claim("1.2", "Feed generation", "10-100x faster", 10, 100, "feed_generation", 0, 1),
    Claim("2.1", "Message history (3 queries -> 1), as the plan writes it", "2-4x faster", 2, 4, "message_history",
          1, 2, "plan_2_1_as_written"),
    Claim("2.1", "Message history (3 queries -> 1), page selected first", "2-4x faster", 2, 4, "message_history", 1, 2),
    Claim("2.2", "Feed candidates (3 round trips -> 1)", "1.5-2x faster", 1.5, 2, "feed_generation", 1, 2),
    Claim("3", "Deep pagination (page 100)", "10-100x faster", 10, 100, "deep_pagination", 2, 3),
)

# Phase 4's claims are about the mixed hot workload (metric hot_reads), not a table row.
CACHE_CLAIMS = (
    ("4", "Cached queries", "10-100x faster for cached queries", 10, 100),
    ("4", "Database load", "50-80% less", 0.5, 0.8),
)

# Success criteria (plan, "Success Criteria"); thresholds are config, these are the defaults.
CRITERIA_MS = {
    "message_send": 50.0,  # Phase 1: message send latency < 50ms p95
    "message_history": 100.0,  # Phase 2: message history latency < 100ms p95
    "feed_generation": 100.0,  # Phase 2: feed generation latency < 100ms p95
    "deep_pagination": 50.0,  # Phase 3: deep pagination latency < 50ms p95 (any page)
    "hot_query": 30.0,  # Phase 4: hot query latency < 30ms p95
}
CACHE_HIT_RATE = 0.70  # Phase 4: cache hit rate > 70%
DB_LOAD_REDUCTION = 0.50  # Phase 4: database query load reduced by 50%
