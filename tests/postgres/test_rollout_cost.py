"""issue 14: the rollout rewrites each message once, keeps dead space reusable, and reports its cost."""

from __future__ import annotations

import time

import psycopg

from dbopt.postgres import cost
from dbopt.postgres.connect import PgConnector
from dbopt.postgres.traffic import Traffic
from pipelines.postgres_steps import cost_metadata
from tests.postgres.conftest import all_resources, failures, run_job
from tests.postgres.invariants import numbering_violations, preexisting_order, violations
from tests.postgres.test_phase1_job import assert_writes_all_landed

BACKFILLS = ("sequence_number_backfill", "conversation_counters_backfill", "content_tsv_backfill")
# Small batches and a VACUUM every fifth of the table, so that tiny data sees several of each.
CONFIG = {"ops": {name: {"config": {"target_batch_ms": 5, "vacuum_every_fraction": 0.2}} for name in BACKFILLS}}


def materializations(result) -> dict[str, dict]:
    return {
        e.asset_key.path[-1]: e.event_specific_data.materialization.metadata
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def test_one_pass_sets_both_columns_while_writers_write_and_each_step_reports_its_cost(seeded_pg_url: str) -> None:
    before = preexisting_order(seeded_pg_url)
    traffic = Traffic(seeded_pg_url, kinds=("send_hot", "send_random", "members", "edit"))
    with traffic:
        time.sleep(0.5)
        result = run_job(seeded_pg_url, "phase1_postgres", CONFIG)
        time.sleep(0.5)
    assert result.success, failures(result)
    assert_writes_all_landed(seeded_pg_url, traffic)
    assert violations(seeded_pg_url) == {}  # every row: content_tsv = to_tsvector(content), numbers 1..N
    assert numbering_violations(seeded_pg_url, before) == []
    meta = materializations(result)
    # The numbering pass set content_tsv as it went: the content_tsv backfill had nothing left to rewrite.
    assert meta["content_tsv_backfill"]["rows"].value == 0
    assert meta["sequence_number_backfill"]["rows"].value >= len(before)
    assert "sequence_number/number_messages" in {r.data["backfill"] for r in meta["sequence_number_backfill"]["backfills"].records}
    for asset in (*BACKFILLS, "phase1_postgres_contract"):
        assert {"cost", "wal_written", "wal_written_bytes", "messages_bytes_after"} <= set(meta[asset]), asset
        assert "cost_unknown_because" not in meta[asset], meta[asset]["cost_unknown_because"]
        rows = {(r.data["relation"], r.data["measure"]) for r in meta[asset]["cost"].value.records}
        assert {("messages", "total bytes"), ("messages", "table bytes"), ("messages", "dead tuples"),
                ("messages_pkey", "index bytes"), ("conversations", "total bytes")} <= rows, asset
        assert meta[asset]["wal_written_bytes"].value >= 0
    assert "VACUUM (ANALYZE) messages" in meta["phase1_postgres_contract"]["analyze"].value


def _as_if_killed_before_the_final_vacuum(conn: psycopg.Connection) -> None:
    """The state a run leaves when it dies after its last change and before VACUUM (ANALYZE):
    the next run must run it (a rerun after a finished one skips it)."""
    conn.execute("DELETE FROM dbopt.migration_ledger WHERE step = 'analyze/010_analyze'")


def test_the_final_vacuum_finishes_while_a_long_transaction_holds_back_cleanup(seeded_pg_url: str) -> None:
    """A forgotten REPEATABLE READ transaction keeps dead versions alive; VACUUM does what it can and returns."""
    assert run_job(seeded_pg_url, "phase1_postgres").success
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        conn.execute("UPDATE messages SET content = content || '!' WHERE id IN (SELECT id FROM messages LIMIT 500)")
        _as_if_killed_before_the_final_vacuum(conn)
    old = psycopg.connect(seeded_pg_url, application_name="forgotten-reader")
    old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    old.execute("SELECT 1").fetchone()  # its snapshot, and so its xmin, holds from here on (no table lock)
    try:
        with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
            conn.execute("UPDATE messages SET content = content || '?' WHERE id IN (SELECT id FROM messages LIMIT 500)")
        again = run_job(seeded_pg_url, "phase1_postgres")  # a rerun: only VACUUM (ANALYZE) and the checks run
        assert old.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # it was never in the way
    finally:
        old.close()
    assert again.success, failures(again)
    assert "applied" in materializations(again)["phase1_postgres_contract"]["analyze"].value
    assert violations(seeded_pg_url) == {}


def test_a_lock_in_the_way_of_the_final_vacuum_fails_the_step_in_one_sentence_not_a_hang(seeded_pg_url: str) -> None:
    """A lock taken after the preflight looked (a manual VACUUM, an index build): lock_timeout, retries, a sentence."""
    import dagster as dg

    import assets
    from pipelines.resources import PostgresResource

    assert run_job(seeded_pg_url, "phase1_postgres").success
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        _as_if_killed_before_the_final_vacuum(conn)
    holder = psycopg.connect(seeded_pg_url, application_name="maintenance-script")
    holder.execute("LOCK TABLE messages IN SHARE UPDATE EXCLUSIVE MODE")
    try:
        result = dg.materialize(
            dg.load_assets_from_package_module(assets),
            selection=[dg.AssetKey("phase1_postgres_contract")],
            resources={**all_resources(seeded_pg_url),
                       "postgres": PostgresResource(database_url=seeded_pg_url, ddl_attempts=2)},
            raise_on_error=False,
        )
    finally:
        holder.close()
    assert not result.success
    message = " ".join(failures(result))
    assert "analyze/010_analyze gave up after 2 attempts" in message and "maintenance-script" in message, message


def test_a_figure_that_cannot_be_read_is_unknown_never_a_failure(seeded_pg_url: str) -> None:
    """A wrong password (or a standby without a WAL position) leaves the figures unknown; the step goes on."""
    bad = psycopg.conninfo.make_conninfo(seeded_pg_url, password="not-the-password", user="no_such_role")
    snap = cost.snapshot(PgConnector(bad), ("messages",))
    assert snap.relations == {} and snap.wal_lsn is None and snap.problems
    meta = cost_metadata(snap, snap)
    assert meta["wal_written"].value == "unknown" and "wal_written_bytes" not in meta
    assert "connection" in meta["cost_unknown_because"].value
    assert "not-the-password" not in meta["cost_unknown_because"].value
    good = cost.snapshot(PgConnector(seeded_pg_url), ("messages", "no_such_table"))
    assert good.total("messages") and good.total("no_such_table") is None and not good.problems


def test_indexes_a_rewrite_bloated_are_rebuilt_concurrently_and_compact_ones_left_alone(seeded_pg_url: str) -> None:
    from dataclasses import replace

    from dbopt.postgres import phase1
    from dbopt.postgres.runner import MigrationRunner

    assert run_job(seeded_pg_url, "phase1_postgres").success
    query = replace(phase1.BLOATED_INDEXES, render={"min_bytes": "0"})
    runner = MigrationRunner(PgConnector(seeded_pg_url))
    runner.reindex_bloated(query)  # tiny indexes the job's 1 MB floor left alone
    assert runner.reindex_bloated(query) == []  # compact indexes are left alone
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        for _ in range(3):  # three more versions of every row, each with new index entries (content_tsv is indexed)
            conn.execute("UPDATE messages SET content_tsv = content_tsv")
        conn.execute("VACUUM (ANALYZE) messages")
        size = "SELECT pg_relation_size('idx_messages_conversation_created_id')"
        bloated = conn.execute(size).fetchone()[0]
        traffic = Traffic(seeded_pg_url, kinds=("send_hot", "send_random", "edit"))
        with traffic:
            results = runner.reindex_bloated(query)
        assert_writes_all_landed(seeded_pg_url, traffic)
        rebuilt = {r.name.split()[-1] for r in results if r.outcome == "applied"}
        assert "idx_messages_conversation_created_id" in rebuilt, results
        assert conn.execute(size).fetchone()[0] < bloated * 0.75
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0] == 0
    assert violations(seeded_pg_url) == {}
