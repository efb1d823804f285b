"""The candidate tables follow CDC state at their as_of, score in [0, 1], rebuild the same
rows for the same as_of, and serve the plan's Phase 2.2 query unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dbopt import sqlfiles
from dbopt.clickhouse import candidates
from dbopt.clickhouse.candidates import Scoring
from dbopt.clickhouse.ddl import Ddl
from dbopt.errors import DboptError


def _event(ch, table: str, values: dict) -> None:
    """Insert one row, every value given as text and cast by the column."""
    cols = ", ".join(values)
    params = ", ".join(f"{{{c}:String}}" for c in values)
    ch.command(f"INSERT INTO {table} ({cols}) SELECT {params}", {c: str(v) for c, v in values.items()})


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _version(dt: datetime, k: int = 0) -> int:
    return int(dt.timestamp() * 1000) * 4 + k


def _build(ch, as_of: datetime, **scoring) -> None:
    candidates.build(ch, Ddl(), Scoring(**scoring), as_of)


def test_cdc_state_decides_what_counts(seeded_ch) -> None:
    ch = seeded_ch
    as_of = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    user, author = ch.rows(
        "SELECT toString(follower_id), toString(followee_id) FROM follows_cdc GROUP BY follower_id, followee_id "
        "HAVING argMax(op, version) = 'c' ORDER BY follower_id LIMIT 1")[0]
    post, doomed = str(uuid.uuid4()), str(uuid.uuid4())
    t = as_of - timedelta(hours=3)
    for p in (post, doomed):
        _event(ch, "posts_cdc", {"post_id": p, "author_id": author, "content_type": "image", "created_at": _ts(t),
                                 "op": "c", "event_ts": _ts(t), "version": _version(t)})
    _event(ch, "posts_cdc", {"post_id": doomed, "author_id": author, "content_type": "image", "created_at": _ts(t),
                             "op": "d", "event_ts": _ts(t + timedelta(hours=1)), "version": _version(t, 1) + 4000})
    fans = [str(uuid.uuid4()) for _ in range(3)]
    for i, fan in enumerate(fans):  # three likes, the last one taken back; a comment deleted; a share
        at = t + timedelta(minutes=10 + i)
        _event(ch, "likes_cdc", {"post_id": post, "user_id": fan, "created_at": _ts(at), "op": "c",
                                 "event_ts": _ts(at), "version": _version(at)})
    undo = t + timedelta(minutes=30)
    _event(ch, "likes_cdc", {"post_id": post, "user_id": fans[2], "created_at": _ts(t + timedelta(minutes=12)),
                             "op": "d", "event_ts": _ts(undo), "version": _version(undo)})
    comment = str(uuid.uuid4())
    _event(ch, "comments_cdc", {"comment_id": comment, "post_id": post, "user_id": fans[0], "created_at": _ts(undo),
                                "op": "c", "event_ts": _ts(undo), "version": _version(undo)})
    _event(ch, "comments_cdc", {"comment_id": comment, "post_id": post, "user_id": fans[0], "created_at": _ts(undo),
                                "op": "d", "event_ts": _ts(undo), "version": _version(undo, 1)})
    _event(ch, "shares_cdc", {"post_id": post, "user_id": fans[1], "created_at": _ts(undo), "op": "c",
                              "event_ts": _ts(undo), "version": _version(undo)})
    after = as_of + timedelta(minutes=1)  # after as_of: must not count
    _event(ch, "shares_cdc", {"post_id": post, "user_id": fans[2], "created_at": _ts(after), "op": "c",
                              "event_ts": _ts(after), "version": _version(after)})

    _build(ch, as_of)
    rows = ch.dicts("SELECT toString(post_id) AS p, likes, comments, shares, affinity_score, combined_score "
                    "FROM feed_candidates_followees WHERE user_id = {u:UUID} AND author_id = {a:UUID}",
                    {"u": user, "a": author})
    mine = {r["p"]: r for r in rows}
    assert post in mine and doomed not in mine, "a deleted post is never a candidate"
    assert (mine[post]["likes"], mine[post]["comments"], mine[post]["shares"]) == (2, 0, 1)
    assert ch.scalar("SELECT count() FROM feed_candidates_trending WHERE post_id = {p:UUID}", {"p": doomed}) == 0

    # Unfollow (after as_of: still a candidate for that as_of; for a later as_of not).
    gone = as_of + timedelta(minutes=2)
    followed_at = ch.scalar("SELECT argMax(created_at, version) FROM follows_cdc WHERE follower_id = {u:UUID} "
                            "AND followee_id = {a:UUID}", {"u": user, "a": author})
    _event(ch, "follows_cdc", {"follower_id": user, "followee_id": author, "created_at": _ts(followed_at), "op": "d",
                               "event_ts": _ts(gone), "version": _version(gone)})
    _build(ch, as_of)
    assert ch.scalar("SELECT count() FROM feed_candidates_followees WHERE user_id = {u:UUID} AND author_id = {a:UUID}",
                     {"u": user, "a": author}) > 0
    _build(ch, gone + timedelta(minutes=1))
    assert ch.scalar("SELECT count() FROM feed_candidates_followees WHERE user_id = {u:UUID} AND author_id = {a:UUID}",
                     {"u": user, "a": author}) == 0
    for table in candidates.TABLES:
        found = candidates.findings(ch, table, followees=table == candidates.FOLLOWEES)
        assert found["rows"] > 0 and not found["failed"], found


def test_same_as_of_same_rows_and_scores_in_range(seeded_ch) -> None:
    ch = seeded_ch
    as_of = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    fingerprint = "SELECT count(), sum(cityHash64(*)) FROM {t}"
    _build(ch, as_of)
    first = {t: ch.rows(fingerprint.format(t=t)) for t in candidates.TABLES}
    # Events after as_of change nothing for that as_of.
    ch.command("INSERT INTO likes_cdc SELECT post_id, generateUUIDv4(), now64(), 'c', now64(), 1 FROM likes_cdc LIMIT 500")
    _build(ch, as_of)
    assert {t: ch.rows(fingerprint.format(t=t)) for t in candidates.TABLES} == first
    for table in candidates.TABLES:
        low, high = ch.rows(
            f"SELECT min(least(freshness_score, engagement_score, affinity_score, combined_score)), "
            f"max(greatest(freshness_score, engagement_score, affinity_score, combined_score)) FROM {table}")[0]
        assert 0 <= low <= high <= 1
    combined = ch.rows(
        "SELECT max(abs(combined_score - (0.4 * freshness_score + 0.4 * engagement_score + 0.2 * affinity_score)))"
        " FROM feed_candidates_followees")[0][0]
    assert combined < 1e-9
    # Other weights, same range; one backup kept per table.
    _build(ch, as_of, w_freshness=0, w_engagement=5, w_affinity=1, engagement_saturation=1)
    assert ch.scalar("SELECT max(combined_score) <= 1 AND min(combined_score) >= 0 FROM feed_candidates_affinity") == 1
    assert ch.scalar("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                     "AND name LIKE 'feed\\\\_candidates\\\\_followees\\\\_\\\\_backup\\\\_%'") == 1


def test_the_plans_query_runs_unchanged(seeded_ch) -> None:
    ch = seeded_ch
    _build(ch, datetime.now(UTC))
    text = sqlfiles.read(candidates.PLAN_QUERY)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    assert body.count("?") == 5 and body.count("UNION ALL") == 2
    assert "FROM feed_candidates_followees\n        WHERE user_id = ?\n        ORDER BY combined_score DESC" in body
    user = ch.scalar("SELECT toString(user_id) FROM feed_candidates_affinity ORDER BY user_id LIMIT 1")
    rows = candidates.feed_for(ch, user, 7)
    by_source = {s: [r for r in rows if r["source"] == s] for s in ("followees", "trending", "affinity")}
    assert len(by_source["trending"]) == 7 and 0 < len(by_source["affinity"]) <= 7
    assert [r["affinity_score"] for r in by_source["affinity"]] == sorted(
        (r["affinity_score"] for r in by_source["affinity"]), reverse=True)
    assert set(rows[0]) == {"source", "post_id", "author_id", "likes", "comments", "shares", "impressions",
                            "freshness_score", "engagement_score", "affinity_score", "combined_score", "created_at"}
    assert candidates.bind_question_marks("SELECT '?', ? , ?", ["it's", 3]) == "SELECT '?', 'it\\'s' , 3"


def test_checks_see_bad_rows_and_bad_settings_are_refused(seeded_ch) -> None:
    ch = seeded_ch
    _build(ch, datetime.now(UTC))
    deleted = ch.scalar("SELECT toString(post_id) FROM posts_cdc GROUP BY post_id HAVING argMax(op, version) = 'd' LIMIT 1")
    ch.command(
        "INSERT INTO feed_candidates_followees SELECT toUUID('00000000-0000-4000-8000-000000000001'), toUUID({p:String}),"
        " author_id, 0, 0, 0, 0, 2.0, 0, 0, 0, created_at, as_of FROM feed_candidates_followees LIMIT 1", {"p": deleted})
    found = candidates.findings(ch, candidates.FOLLOWEES, followees=True)
    assert set(found["samples"]) == {"scores_out_of_range", "deleted_posts", "unfollowed_authors"}
    assert found["samples"]["deleted_posts"][0]["post"] == deleted
    with pytest.raises(DboptError, match="must be positive numbers"):
        _build(ch, datetime.now(UTC), engagement_saturation=0)
    with pytest.raises(DboptError, match="is in the future"):
        candidates.parse_as_of((datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert candidates.parse_as_of("2025-01-31T12:00:00Z") == datetime(2025, 1, 31, 12, tzinfo=UTC)


def test_builds_write_under_their_runs_names_and_drop_a_killed_builds_tables(seeded_ch) -> None:
    ch = seeded_ch
    as_of = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    one, two = candidates.Names.for_run("3f0c9a52-7d1e-4b7a"), candidates.Names.for_run("8e21d4c0-55aa-4f0b")
    assert set(one.work().values()).isdisjoint(two.work().values())
    assert one.staging(candidates.FOLLOWEES) != two.staging(candidates.FOLLOWEES)
    # A build killed after filling its work tables and one staging table.
    params = candidates.prepare(ch, Ddl(), Scoring(), as_of, one)
    candidates.fill(ch, Ddl(), candidates.FOLLOWEES, one.staging(candidates.FOLLOWEES), one, params)
    left = candidates.leftovers(ch)
    assert left == sorted([*one.work().values(), one.staging(candidates.FOLLOWEES)])
    candidates.build(ch, Ddl(), Scoring(), as_of, run_id="8e21d4c0-55aa-4f0b")
    assert candidates.leftovers(ch) == [], "the next build (holding the run lock) dropped them"
    assert all(ch.scalar(f"SELECT count() FROM {t}") > 0 for t in candidates.TABLES)
