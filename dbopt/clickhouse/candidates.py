"""The feed candidate tables: built for an `as_of` instant, checked, then swapped in.

One build computes, for the window before `as_of`, the live posts with their counts and
scores, the current follows and each user's affinity with authors (work tables), then
fills `feed_candidates_followees`, `_trending` and `_affinity` under staging names,
checks them and swaps each in with `EXCHANGE TABLES` (the previous one becomes a
backup). The same `as_of` and settings always give the same rows.

Scores, each in [0, 1] (see docs/clickhouse.md):
- freshness  = 0.5 ^ (age in hours / freshness_half_life_hours)
- engagement = e / (e + engagement_saturation), e = w_like*likes + w_comment*comments
  + w_share*shares + w_impression*impressions
- affinity   = a / (a + affinity_saturation), a = the user's weighted likes, comments and
  shares of the author's posts in the last affinity_days (0 in trending)
- combined   = weighted mean of the three with w_freshness, w_engagement, w_affinity
  (trending: of freshness and engagement)
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dbopt import sqlfiles
from dbopt.clickhouse import instants, swap
from dbopt.clickhouse.client import ClickHouse
from dbopt.clickhouse.ddl import Ddl
from dbopt.errors import DboptError

DIR = "clickhouse/phase1/feed_candidates"
FOLLOWEES, TRENDING, AFFINITY = "feed_candidates_followees", "feed_candidates_trending", "feed_candidates_affinity"
TABLES = (FOLLOWEES, TRENDING, AFFINITY)


@dataclass(frozen=True)
class Kind:
    """How one candidate table is laid out and filled."""

    per_user: bool  # has user_id (followees, affinity) or not (trending)
    pairs: str | None  # the file choosing its (user, author) pairs
    fill: str
    rank: str = ""  # ORDER BY within a user


KINDS = {
    FOLLOWEES: Kind(True, "035_pairs_followees.sql", "040_user_candidates.sql", "combined_score DESC"),
    TRENDING: Kind(False, None, "050_trending.sql"),
    AFFINITY: Kind(True, "035_pairs_affinity.sql", "040_user_candidates.sql", "affinity_score DESC, combined_score DESC"),
}
PLAN_QUERY = f"{DIR}/plan_2_2_feed_candidates.sql"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Scoring:
    """How candidates are chosen and scored; every weight is a config field of the asset."""

    window_days: int = 14
    affinity_days: int = 90
    per_user_limit: int = 200
    trending_limit: int = 500
    freshness_half_life_hours: float = 24.0
    w_freshness: float = 0.4
    w_engagement: float = 0.4
    w_affinity: float = 0.2
    w_like: float = 1.0
    w_comment: float = 2.0
    w_share: float = 3.0
    w_impression: float = 0.05
    engagement_saturation: float = 20.0
    affinity_saturation: float = 5.0

    def validate(self) -> None:
        values = asdict(self)
        bad = [k for k, v in values.items() if not math.isfinite(v) or v < 0]
        bad += [k for k in ("window_days", "affinity_days", "per_user_limit", "trending_limit",
                            "freshness_half_life_hours", "engagement_saturation", "affinity_saturation")
                if values[k] <= 0 and k not in bad]
        if bad:
            raise DboptError(f"Feed candidate settings {', '.join(bad)} must be positive numbers; fix the run config.")
        if self.w_freshness + self.w_engagement <= 0:
            raise DboptError("w_freshness and w_engagement cannot both be 0; give one a positive weight in the run config.")

    def params(self, as_of: datetime, users: list[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in asdict(self).items() if k not in ("window_days", "affinity_days")}
        out.update(
            as_of=as_of,
            since=as_of - timedelta(days=self.window_days),
            affinity_since=as_of - timedelta(days=self.affinity_days),
            all_users=0 if users else 1,
            users=list(users or []),
        )
        return out


def parse_as_of(text: str | None, now: datetime | None = None) -> datetime:
    """The build's instant: ISO 8601 (UTC unless it says otherwise), or now to the minute."""
    now = now or datetime.now(UTC)
    if not text:
        return now.replace(second=0, microsecond=0)
    return instants.parse("as_of", text, now=now, max_ahead=timedelta(minutes=1), clock="this host's clock")


@dataclass(frozen=True)
class Names:
    """Where a build writes: the live tables' staging names and its work tables."""

    prefix: str = "feed_candidates"

    @property
    def posts(self) -> str:
        return f"{self.prefix}_work_posts"

    @property
    def follows(self) -> str:
        return f"{self.prefix}_work_follows"

    @property
    def affinity(self) -> str:
        return f"{self.prefix}_work_affinity"

    @property
    def pairs(self) -> str:
        return f"{self.prefix}_work_pairs"

    def staging(self, table: str) -> str:
        return f"{table}__staging" if self.prefix == "feed_candidates" else f"{self.prefix}_{table}"

    def work(self) -> dict[str, str]:
        return {"posts": self.posts, "follows": self.follows, "affinity": self.affinity, "pairs": self.pairs}

    @classmethod
    def for_run(cls, run_id: str) -> Names:
        """A build's own work and staging names: two builds never write into one table."""
        suffix = "".join(c for c in run_id.lower() if c.isalnum())[:12]
        return cls(f"feed_candidates_{suffix}") if suffix else cls()


@dataclass
class BuildReport:
    as_of: datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    backups: dict[str, str | None] = field(default_factory=dict)
    dropped_backups: list[str] = field(default_factory=list)


def prepare(ch: ClickHouse, ddl: Ddl, scoring: Scoring, as_of: datetime, names: Names,
            users: list[str] | None = None) -> dict[str, Any]:
    """Fill the work tables (posts of the window, current follows, affinity); returns the params."""
    scoring.validate()
    work = names.work()
    for name in work.values():
        swap.drop(ch, ddl, name)
    ddl.run(ch, f"{DIR}/015_create_work.sql", **work)
    params = scoring.params(as_of, users)
    window_posts = sqlfiles.read(f"{DIR}/020_window_posts.fragment.sql").rstrip()
    ch.command(sqlfiles.load(f"{DIR}/020_posts.sql", {**work, "window_posts": window_posts}),
               {**params, "all_authors": 1})
    for file in ("025_follows.sql", "030_affinity.sql"):
        ch.command(sqlfiles.load(f"{DIR}/{file}", work), params)
    return params


def fill(ch: ClickHouse, ddl: Ddl, table: str, staging: str, names: Names, params: dict[str, Any]) -> int:
    """Create `staging` like `table` and fill it from the work tables; returns its rows."""
    kind = KINDS[table]
    swap.drop(ch, ddl, staging)
    ddl.run(ch, f"{DIR}/010_create_candidates.sql", name=staging,
            user_column="user_id UUID," if kind.per_user else "", order_by="user_id, post_id" if kind.per_user else "post_id")
    if kind.pairs:
        ddl.run(ch, f"{DIR}/{kind.pairs}", **names.work())
    ch.command(sqlfiles.load(f"{DIR}/{kind.fill}", {"staging": staging, "rank": kind.rank, **names.work()}), params)
    return int(ch.scalar(sqlfiles.load("clickhouse/phase1/common/count.sql", {"table": staging})) or 0)


def drop_work(ch: ClickHouse, ddl: Ddl, names: Names) -> None:
    for name in names.work().values():
        swap.drop(ch, ddl, name)


def leftovers(ch: ClickHouse, keep: Names | None = None) -> list[str]:
    """Work and staging tables of builds that did not finish (never live tables or backups)."""
    from dbopt.clickhouse import catalog

    mine = set(keep.work().values()) | {keep.staging(t) for t in TABLES} if keep else set()
    found = catalog.tables(ch, like="feed\\_candidates\\_%")
    return sorted(n for n in found if n not in mine and ("_work_" in n or n.endswith("__staging")
                                                         or any(n.endswith(f"_{t}") and n != t for t in TABLES)))


def drop_leftovers(ch: ClickHouse, ddl: Ddl, keep: Names | None = None) -> list[str]:
    names = leftovers(ch, keep)
    for name in names:
        swap.drop(ch, ddl, name)
    return names


def build(
    ch: ClickHouse,
    ddl: Ddl,
    scoring: Scoring,
    as_of: datetime,
    *,
    keep_backups: int = 1,
    log: Log = lambda _: None,
    run_id: str = "",
) -> BuildReport:
    """Build the three tables for `as_of` and swap them in, each only if its checks pass.

    Work and staging tables carry the run's id; those of earlier runs (killed mid-build)
    are dropped first, which is safe because the caller holds the run lock.
    """
    as_of = as_of.replace(microsecond=as_of.microsecond // 1000 * 1000)  # DateTime64(3)
    names = Names.for_run(run_id)
    drop_leftovers(ch, ddl, keep=names)
    report = BuildReport(as_of)
    started = time.monotonic()
    params = prepare(ch, ddl, scoring, as_of, names)
    log(f"feed candidates: work tables for as_of {as_of.isoformat()} ready in {time.monotonic() - started:.1f}s")
    staged = {}
    for table in TABLES:
        t = time.monotonic()
        staged[table] = names.staging(table)
        report.rows[table] = fill(ch, ddl, table, staged[table], names, params)
        report.seconds[table] = round(time.monotonic() - t, 3)
        problems = findings(ch, staged[table], followees=table == FOLLOWEES, expected_as_of=as_of)
        if problems["failed"]:
            raise DboptError(
                f"{table} built for {as_of.isoformat()} fails its checks ({'; '.join(problems['failed'])}); the live "
                f"table is unchanged: inspect {staged[table]} and the CDC tables, then run again."
            )
        log(f"feed candidates: {table} staged with {report.rows[table]:,} rows")
    when = swap.stamp()
    for table in TABLES:
        swapped = swap.swap_in(ch, ddl, table, staged[table], keep_backups=keep_backups, when=when)
        report.backups[table] = swapped.backup
        report.dropped_backups.extend(swapped.dropped_backups)
    drop_work(ch, ddl, names)
    log(f"feed candidates: swapped in ({', '.join(f'{t} {n:,}' for t, n in report.rows.items())} rows)")
    return report


def drop_all(ch: ClickHouse, ddl: Ddl) -> list[str]:
    """Rollback: the candidate tables, their staging tables, backups and work tables."""
    from dbopt.clickhouse import catalog

    names = sorted(catalog.tables(ch, like="feed\\_candidates\\_%"))
    ddl.run(ch, f"{DIR}/010_candidate_tables_rollback.sql")
    for name in names:
        swap.drop(ch, ddl, name)
    return names


# --- checks -------------------------------------------------------------------------------


def findings(ch: ClickHouse, table: str, *, followees: bool, expected_as_of: datetime | None = None,
             sample: int = 10) -> dict[str, Any]:
    """What the checks see in a candidate table: figures, failures and offending rows."""
    summary = ch.dicts(sqlfiles.load(f"{DIR}/070_check_summary.sql", {"table": table}))[0]
    failed: list[str] = []
    samples: dict[str, list[dict]] = {}
    rows = int(summary["rows"])
    if rows == 0:
        failed.append("it is empty")
    if rows and summary["min_as_of"] != summary["max_as_of"]:
        failed.append("its rows have different as_of values")
    if rows and expected_as_of is not None and summary["max_as_of"] != expected_as_of:
        failed.append(f"its as_of is {summary['max_as_of']}, not {expected_as_of}")
    if summary["created_after_as_of"]:
        failed.append(f"{summary['created_after_as_of']} rows were created after as_of")
    checks = [("scores_out_of_range", "071_check_scores_sample.sql", "rows have a score outside [0, 1]")]
    if rows:
        checks.append(("deleted_posts", "072_check_deleted_posts.sql", "rows are deleted posts"))
    if rows and followees:
        checks.append(("unfollowed_authors", "073_check_unfollowed.sql", "(user, author) pairs are not current follows"))
    for key, file, text in checks:
        found = ch.dicts(sqlfiles.load(f"{DIR}/{file}", {"table": table}), {"limit": sample})
        if found:
            samples[key] = found
            failed.append(f"{'some' if len(found) >= sample else len(found)} {text}")
    return {"table": table, "rows": rows, "as_of": summary["max_as_of"], "failed": failed, "samples": samples}


# --- the plan's query --------------------------------------------------------------------------


def bind_question_marks(sql: str, values: list[Any]) -> str:
    """Bind `?` in order, as the service's ClickHouse client does (values become literals).

    Only numbers and UUID/strings are needed by the plan's query; a `?` inside a quoted
    string is left alone.
    """
    out: list[str] = []
    pending = list(values)
    for part in re.split(r"('(?:[^'\\]|\\.)*')", sql):
        if part.startswith("'"):
            out.append(part)
            continue
        pieces = part.split("?")
        out.append(pieces[0])
        for piece in pieces[1:]:
            if not pending:
                raise ValueError("more ? placeholders than values")
            out.append(_literal(pending.pop(0)))
            out.append(piece)
    if pending:
        raise ValueError("more values than ? placeholders")
    return "".join(out)


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def plan_query(user_id: str, limit: int) -> str:
    """The plan's Phase 2.2 query, unchanged (the file's header comment left out), with its five `?` bound."""
    text = sqlfiles.read(PLAN_QUERY)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return bind_question_marks(body, [str(user_id), limit, limit, str(user_id), limit])


def feed_for(ch: ClickHouse, user_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """What the feed service gets: the plan's query for one user."""
    return ch.dicts(plan_query(user_id, limit))
