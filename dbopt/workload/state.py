"""What the databases look like now: which phase each is at, read from their catalogs.

Phase 1 changes schemas; Phases 2-4 change the services' code. So a database before
Phase 1 can only run the "before" query patterns, and one after Phase 1 can run every
pattern of every phase. Each run of the benchmark records this state with its figures,
and the report pairs the latest run on a baseline database with the latest run after
Phase 1 on the same data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dbopt.workload import queries

# What a pattern may need, and which catalog facts provide it.
PG_FEATURES = {
    "pg.sequence_number": ("sequence_number", "sequence_trigger"),
    "pg.counters": ("member_count", "last_message_id", "last_message_trigger"),
    "pg.content_tsv": ("content_tsv", "content_tsv_index"),
}
CH_CANDIDATES = ("feed_candidates_followees", "feed_candidates_trending", "feed_candidates_affinity")
CH_CDC = ("posts_cdc", "likes_cdc", "comments_cdc", "shares_cdc", "follows_cdc", "impressions")


@dataclass
class State:
    features: dict[str, bool] = field(default_factory=dict)
    catalog: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)

    def has(self, *needs: str) -> bool:
        return all(self.features.get(n, False) for n in needs)

    def missing(self, *needs: str) -> list[str]:
        return [n for n in needs if not self.features.get(n, False)]

    @property
    def phase1_postgres(self) -> bool:
        return self.has(*PG_FEATURES)

    @property
    def phase1_clickhouse(self) -> bool:
        return self.has("ch.candidates")

    def applied(self, system: str) -> bool:
        return self.phase1_postgres if system == "postgres" else self.phase1_clickhouse

    def label(self) -> str:
        parts = []
        for system, name in (("postgres", "Phase 1.1 (PostgreSQL)"), ("clickhouse", "Phase 1.2 (ClickHouse)")):
            parts.append(f"{name} {'applied' if self.applied(system) else 'not applied'}")
        partial = [f for f in PG_FEATURES if self.features.get(f)] if not self.phase1_postgres else []
        if partial:
            parts.append(f"partly: {', '.join(partial)}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(phase1_postgres=self.phase1_postgres, phase1_clickhouse=self.phase1_clickhouse, label=self.label())
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        return cls(dict(data.get("features", {})), dict(data.get("catalog", {})), dict(data.get("dataset", {})))


def postgres_state(conn: Any, safe_url: str) -> tuple[dict[str, bool], dict[str, Any], dict[str, Any]]:
    row = queries.pg(conn, "workload_state")[0]
    features = {name: all(row[c] for c in cols) for name, cols in PG_FEATURES.items()}
    catalog = {k: v for k, v in row.items() if k not in ("conversations", "posts")}
    dataset = {"postgres": safe_url, "conversations": row["conversations"], "posts": row["posts"]}
    return features, catalog, dataset


def clickhouse_state(ch: Any) -> tuple[dict[str, bool], dict[str, Any], dict[str, Any]]:
    from dbopt.clickhouse import catalog as ch_catalog

    tables = ch_catalog.tables(ch, [*CH_CANDIDATES, *CH_CDC])
    features = {"ch.candidates": all(t in tables for t in CH_CANDIDATES), "ch.cdc": all(t in tables for t in CH_CDC)}
    catalog = {"cdc_partitioned_by_month": all(tables[t].monthly for t in CH_CDC if t in tables)}
    target = ch.target.safe_url if ch.backend == "http" else f"chDB {ch.target.path}"
    dataset = {"clickhouse": f"{target} ({ch.database})",
               "posts_cdc_rows": tables["posts_cdc"].total_rows if "posts_cdc" in tables else 0}
    return features, catalog, dataset


def detect(*, pg_conn: Any = None, pg_safe_url: str = "", ch: Any = None, redis_client: Any = None) -> State:
    """The state of whichever systems are given."""
    state = State()
    if pg_conn is not None:
        f, c, d = postgres_state(pg_conn, pg_safe_url)
        state.features.update(f)
        state.catalog.update(c)
        state.dataset.update(d)
    if ch is not None:
        f, c, d = clickhouse_state(ch)
        state.features.update(f)
        state.catalog.update(c)
        state.dataset.update(d)
    if redis_client is not None:
        try:
            state.features["redis"] = bool(redis_client.ping())
        except Exception:
            state.features["redis"] = False
    return state


def merge(states: list[dict[str, Any]]) -> State:
    """One run's state from the records of its steps (each saw the systems it used)."""
    out = State()
    for s in states:
        st = State.from_dict(s)
        out.features.update(st.features)
        out.catalog.update(st.catalog)
        out.dataset.update(st.dataset)
    return out
