"""The checks' scope (pipelines/check_scope.py): what the run changed in full, a stated sample of the rest."""

from __future__ import annotations

import time
import uuid

import dagster as dg
import psycopg

from dbopt import sqlfiles
from dbopt.postgres.traffic import Traffic
from pipelines import gx_postgres, postgres_results
from pipelines.resources import PostgresResource
from tests.postgres.conftest import failures, run_job

RANGE_A = ("a0000000-0000-0000-0000-000000000000", "b0000000-0000-0000-0000-000000000000")


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def _meta(evaluation: dg.AssetCheckEvaluation, key: str):
    """A figure, or a table's cells as one text (a sample of offending rows is a table)."""
    value = evaluation.metadata[key]
    if isinstance(value, dg.TableMetadataValue):
        return " ".join(str(v) for r in value.records for v in r.data.values())
    return value.value


def _corrupt_tsv(conn: psycopg.Connection, inside: bool) -> str:
    where = "id >= %s::uuid AND id < %s::uuid" if inside else "NOT (id >= %s::uuid AND id < %s::uuid)"
    mid = conn.execute(f"SELECT id FROM messages WHERE {where} ORDER BY id LIMIT 1", RANGE_A).fetchone()[0]
    # The trigger sets content_tsv only when content changes: this write sticks, as a bug's would.
    conn.execute("UPDATE messages SET content_tsv = to_tsvector('simple', 'corrupted') WHERE id = %s", (mid,))
    return str(mid)


def test_sampled_checks_read_the_ranges_the_run_wrote_in_full_and_catch_a_corrupted_row(phase1_pg_url: str) -> None:
    run_id = str(uuid.uuid4())
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        # One row of each table is wrong, in range a of messages and in some conversation's range ...
        bad_message = _corrupt_tsv(conn, inside=True)
        bad_conversation = str(conn.execute(
            "UPDATE conversations SET member_count = member_count + 7 "
            "WHERE id = (SELECT id FROM conversations ORDER BY id DESC LIMIT 1) RETURNING id"
        ).fetchone()[0])
        # ... and this run "wrote" those ranges of the content_tsv and counters backfills (their checkpoints say so).
        conn.execute(
            "UPDATE dbopt.backfill_progress SET run_id = %s WHERE (backfill, key_range) IN "
            "(('content_tsv/backfill', 'a'), ('conversation_counters/backfill', %s))",
            (run_id, bad_conversation[0]),
        )
    # The smallest samples: whatever is found, the ranges read in full found it.
    tiny = {"ops": {
        "content_tsv_backfill_content_tsv_matches_content": {"config": {"sample_rows": 1}},
        "conversation_counters_backfill_conversation_counters_match_recount": {"config": {"sample": 1}},
    }}
    result = run_job(phase1_pg_url, "phase1_postgres", tiny, run_id=run_id)
    checks = _evaluations(result)
    tsv = checks["content_tsv_matches_content"]
    assert not tsv.passed
    assert _meta(tsv, "changed_ranges") == "a"
    assert _meta(tsv, "messages whose content_tsv differs from their content") == 1
    assert bad_message in _meta(tsv, "sample: messages whose content_tsv differs from their content")
    assert "the key ranges this run wrote (a) in full" in _meta(tsv, "check_scope")
    assert _meta(tsv, "check_engine") == postgres_results.SQL_ENGINE
    counters = checks["conversation_counters_match_recount"]
    assert not counters.passed
    assert _meta(counters, "changed_ranges") == bad_conversation[0]
    assert bad_conversation in _meta(counters, "sample: conversations whose counters differ from a recount")


def test_a_corruption_outside_the_changed_ranges_is_caught_by_the_full_mode(phase1_pg_url: str) -> None:
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        bad_message = _corrupt_tsv(conn, inside=False)
    sampled = _evaluations(run_job(phase1_pg_url, "phase1_postgres"))["content_tsv_matches_content"]
    # A rerun wrote nothing: the check reads a random sample and says how big, and what that proves.
    assert _meta(sampled, "changed_ranges") == "none"
    size = _meta(sampled, "sample_size")
    assert size > 0
    assert f"uniform random sample of {size:,} messages" in _meta(sampled, "check_scope")
    assert "95% confidence" in _meta(sampled, "check_scope")
    if not sampled.passed:  # the sample may hit the row; then it names it
        assert bad_message in _meta(sampled, "sample: messages whose content_tsv differs from their content")

    full = run_job(phase1_pg_url, "phase1_postgres", tags={"dbopt/checks": "full"})
    tsv = _evaluations(full)["content_tsv_matches_content"]
    assert not tsv.passed
    assert _meta(tsv, "check_mode") == "full"
    assert _meta(tsv, "check_engine") == postgres_results.GX_ENGINE
    assert _meta(tsv, "messages whose content_tsv differs from their content") == 1
    assert bad_message in _meta(tsv, "sample: messages whose content_tsv differs from their content")


def test_both_engines_find_the_same_offending_rows(phase1_pg_url: str) -> None:
    """The default scope runs the suites' queries directly, the full mode through Great
    Expectations: on the same corrupted rows every query counts the same in both."""
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        _corrupt_tsv(conn, inside=True)
        conn.execute("UPDATE messages SET content_tsv = NULL WHERE id = (SELECT id FROM messages ORDER BY id DESC LIMIT 1)")
        conn.execute("UPDATE conversations SET member_count = member_count + 1 "
                     "WHERE id = (SELECT id FROM conversations ORDER BY id LIMIT 1)")
        conn.execute("ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_conversation_sequence_key")
        conn.execute("UPDATE messages SET sequence_number = sequence_number + 1 WHERE id = ("
                     "SELECT id FROM messages WHERE sequence_number = 2 ORDER BY id LIMIT 1)")
    every_row = {"changed": "true", "sampled": "false", "ts_config": "'simple'::regconfig"}
    folders = {"messages": ("content_tsv", "sequence_number"), "conversations": ("conversation_counters",)}
    postgres = PostgresResource(database_url=phase1_pg_url)
    found = 0
    for table, names in folders.items():
        queries = {
            f"{name}/{path.stem}": sqlfiles.load(f"postgres/checks/{name}/{path.name}", every_row).strip().rstrip(";")
            for name in names for path in sorted(sqlfiles.sql_path(f"postgres/checks/{name}").glob("*.sql"))
        }
        direct = postgres_results.count_offending(postgres, queries)
        suite = gx_postgres.validate(phase1_pg_url, table, [gx_postgres.Expectation("no_rows", n, query=q)
                                                            for n, q in queries.items()])
        assert [(o.name, o.observed) for o in direct] == [(o.name, o.observed) for o in suite]
        found += sum(o.observed for o in direct)
    assert found >= 4  # the corruptions above were seen, not a vacuous agreement on zero


def test_a_bad_check_mode_tag_is_one_sentence_before_anything_runs(seeded_pg_url: str) -> None:
    result = run_job(seeded_pg_url, "phase1_postgres", tags={"dbopt/checks": "fast"})
    assert not result.success
    messages = failures(result)
    assert any(
        "the run tag dbopt/checks is 'fast' but must be 'sampled'" in m and "fix the tag and launch the run again" in m
        for m in messages
    ), messages
    assert not [e for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]
    with psycopg.connect(seeded_pg_url) as conn:
        assert conn.execute("SELECT to_regclass('dbopt.migration_ledger')").fetchone()[0] is None


def test_checks_raise_no_false_alarm_while_writers_write_through_them(phase1_pg_url: str) -> None:
    traffic = Traffic(phase1_pg_url, kinds=("send_hot", "send_random", "members", "edit"))
    with traffic:
        time.sleep(0.3)
        sampled = run_job(phase1_pg_url, "phase1_postgres")
        full = run_job(phase1_pg_url, "phase1_postgres", tags={"dbopt/checks": "full"})
        time.sleep(0.3)
    assert not traffic.stats.errors, traffic.stats.errors[:3]
    assert all(traffic.stats.ops[k] > 5 for k in ("send_hot", "send_random", "members", "edit")), traffic.stats.ops
    for result in (sampled, full):
        assert result.success, failures(result)
        checks = _evaluations(result)
        assert {"content_tsv_matches_content", "conversation_counters_match_recount",
                "sequence_numbers_complete_and_unique", "sequence_numbers_contiguous"} <= set(checks)
        failed = {n: {k: v.value for k, v in c.metadata.items() if k.startswith(("sample:", "conversations", "numbers"))}
                  for n, c in checks.items() if not c.passed}
        # Concurrent sends commit out of their created_at order: the warning-only check may list such
        # inversions (documented), never a gap; every blocking check passes.
        assert set(failed) <= {"sequence_numbers_contiguous"}, failed
        assert _meta(checks["sequence_numbers_contiguous"], "conversations with gaps") == 0
        # The two suites on messages read one sample in one step; so do the contract's three checks.
        for names in (("sequence_numbers_complete_and_unique", "sequence_numbers_contiguous"),
                      ("plan_queries_run_and_use_indexes", "phase1_triggers_enabled", "phase1_no_invalid_indexes")):
            steps = {e.step_key for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
                     and e.event_specific_data.check_name in names}
            assert len(steps) == 1, steps
        suites = [checks[n] for n in ("sequence_numbers_complete_and_unique", "sequence_numbers_contiguous")]
        assert len({_meta(c, "check_scope") for c in suites}) == 1


def test_range_runs_check_their_own_key_range_in_full(seeded_pg_url: str) -> None:
    """The checks of a backfill are on its `*_by_range` copy too: a range run verifies its range, all of it,
    and does not fail on the ranges other runs have not done yet."""
    assert run_job(seeded_pg_url, "phase1_postgres_triggers").success
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        bad_message = _corrupt_tsv(conn, inside=True)
    bad = run_job(seeded_pg_url, "backfill_by_range", partition_key="a")
    tsv = _evaluations(bad)["content_tsv_matches_content"]
    assert not tsv.passed and bad.dagster_run.tags["dagster/partition"] == "a"
    assert bad_message in _meta(tsv, "sample: messages whose content_tsv differs from their content")
    assert _meta(tsv, "changed_ranges") == "a"
    assert "in key range a (this run's partition)" in _meta(tsv, "check_scope")

    other = run_job(seeded_pg_url, "backfill_by_range", partition_key="3")
    assert other.success, failures(other)
    checks = _evaluations(other)
    assert {"sequence_numbers_complete_and_unique", "conversation_counters_match_recount",
            "content_tsv_matches_content"} <= {n for n, e in checks.items() if e.passed}
    assert all(_meta(e, "changed_ranges") == "3" for n, e in checks.items() if n != "sequence_numbers_contiguous")


def test_the_sample_is_probed_once_and_read_by_key(seeded_pg_url: str) -> None:
    """The slots are probed once; the queries read the rows found there by key: the same rows, every
    one of them, and no other."""
    from pipelines import check_scope

    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE messages")
        slots = check_scope.row_slots(conn, "messages", 200, seed=7)
        at_slots = {r[0] for r in conn.execute(f"SELECT id FROM messages WHERE {slots}").fetchall()}
        by_key = {r[0] for r in conn.execute(
            f"SELECT id FROM messages WHERE {check_scope.keys_in(conn, 'id', sorted(at_slots, key=str))}"
        ).fetchall()}
        assert at_slots and by_key == at_slots
        assert check_scope.keys_in(conn, "id", []) == "false"
