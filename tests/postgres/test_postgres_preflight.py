"""postgres_preflight on real servers: one test per finding that can stop or warn a rollout,
the job stopping before any change, and nothing written by the preflight itself."""

from __future__ import annotations

import uuid

import dagster as dg
import psycopg
import pytest

from dbopt import cli
from dbopt.errors import DboptError
from dbopt.postgres import preflight
from dbopt.postgres.connect import PgConnector
from dbopt.preflight import Verdict
from tests.postgres.conftest import app_snapshot, failures, run_job, start_pgbouncer


def findings_of(url: str, **thresholds) -> dict[str, preflight.Finding]:
    connector = PgConnector(url)
    try:
        return {f.name: f for f in preflight.run(connector, preflight.Thresholds(**thresholds))}
    finally:
        connector.close()


def catalog_snapshot(url: str) -> dict[str, str]:
    """Every object outside the system schemas, with what defines it; and the schemas."""
    queries = {
        "namespaces": "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace",
        "relations": """SELECT md5(string_agg(concat_ws(':', n.nspname, c.relname, c.relkind, c.relowner,
                            c.reloptions::text, c.relpersistence), '|' ORDER BY n.nspname, c.relname))
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')""",
        "columns": """SELECT md5(string_agg(concat_ws(':', a.attrelid::regclass::text, a.attname, a.atttypid,
                          a.attnotnull, a.attisdropped), '|' ORDER BY a.attrelid::regclass::text, a.attnum))
                      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND a.attnum > 0""",
        "triggers": "SELECT md5(string_agg(tgrelid::regclass::text || tgname, '|' ORDER BY tgrelid::regclass::text, tgname)) FROM pg_trigger",
        "functions": """SELECT md5(string_agg(p.oid::regprocedure::text, '|' ORDER BY p.oid::regprocedure::text))
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')""",
        "constraints": "SELECT md5(string_agg(conrelid::regclass::text || conname || convalidated, '|' ORDER BY conrelid::regclass::text, conname)) FROM pg_constraint WHERE connamespace <> 'pg_catalog'::regnamespace",
    }
    with psycopg.connect(url) as conn:
        return {name: conn.execute(q).fetchone()[0] for name, q in queries.items()}


def dbopt_schema_exists(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regnamespace('dbopt') IS NOT NULL").fetchone()[0]


def run_preflight_writing_nothing(url: str):
    """Runs preflight_postgres (preflight and plan) on `url`, which must succeed and change neither the catalog
    nor the data, nor create dbopt's schema; its result."""
    catalog, data = catalog_snapshot(url), app_snapshot(url)
    result = run_job(url, "preflight_postgres")
    assert result.success, failures(result)
    assert catalog_snapshot(url) == catalog
    assert app_snapshot(url) == data
    assert not dbopt_schema_exists(url)
    return result


def test_preflight_job_writes_nothing_and_shows_one_check_per_finding(seeded_pg_url: str) -> None:
    result = run_preflight_writing_nothing(seeded_pg_url)
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert sorted(ev.check_name for ev in evaluations) == sorted(preflight.FINDINGS)
    # The owner of a seeded database: nothing stops the rollout (autovacuum may warn on CI's PostgreSQL 15).
    assert all(ev.passed or ev.severity is dg.AssetCheckSeverity.WARN for ev in evaluations)
    [mat] = result.asset_materializations_for_node("postgres_preflight")
    table = mat.metadata["findings"].value
    assert [r.data["finding"] for r in table.records] == list(preflight.FINDINGS)
    assert {c.name for c in table.schema.columns} == {"finding", "verdict", "value", "threshold", "what it means"}


def test_idle_in_transaction_lock_stops_phase1_before_any_change(seeded_pg_url: str) -> None:
    app = f"preflight-test-{uuid.uuid4().hex[:6]}"
    idle = psycopg.connect(seeded_pg_url, application_name=app)
    try:
        pid = idle.info.backend_pid
        idle.execute("SELECT 1 FROM messages LIMIT 1")  # ACCESS SHARE on messages, then idle in transaction
        catalog = catalog_snapshot(seeded_pg_url)
        # Idle for moments only (the default asks for a second of idleness, so that a busy
        # application's transactions between two statements are not taken for stuck ones).
        now = {"ops": {"postgres_preflight": {"config": {"idle_in_transaction_min_s": 0}}}}
        result = run_job(seeded_pg_url, "phase1_postgres", now)
        assert not result.success
        said = " ".join(failures(result))
        assert f"pid {pid}" in said and app in said and "idle in transaction" in said, said
        assert "check postgres_idle_in_transaction failed" in said
        # Stopped before any change: postgres_baseline never ran, nothing was created.
        assert not result.asset_materializations_for_node("postgres_baseline")
        assert not dbopt_schema_exists(seeded_pg_url)
        assert catalog_snapshot(seeded_pg_url) == catalog
    finally:
        idle.close()


def test_role_without_ownership_is_a_no_go_naming_the_privilege(
    seeded_pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], only_postgres_configured
) -> None:
    role = f"dbopt_noown_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(seeded_pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        url = psycopg.conninfo.make_conninfo(seeded_pg_url, user=role)
        found = findings_of(url)
        privileges = found[preflight.PRIVILEGES]
        assert privileges.verdict is Verdict.NO_GO
        assert f"Role {role} lacks ownership of messages" in privileges.sentence
        assert "TRIGGER on conversation_members" in privileges.sentence
        assert "CREATE on the database" in privileges.sentence
        # Nor can it see other sessions: the throttle would run blind.
        assert found[preflight.VISIBILITY].verdict is Verdict.WARN
        assert f"GRANT pg_monitor TO {role}" in found[preflight.VISIBILITY].sentence
        # `dbopt plan` says the same words and exits 2 (no-go).
        monkeypatch.setenv("DATABASE_URL", url)
        assert cli.main(["plan"]) == 2
        out = capsys.readouterr().out
        assert "NO-GO postgres_privileges" in out
        assert privileges.sentence in out
    finally:
        with psycopg.connect(seeded_pg_url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_autovacuum_off_for_a_table_is_a_warning(seeded_pg_url: str) -> None:
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE messages SET (autovacuum_enabled = false)")
    finding = findings_of(seeded_pg_url)[preflight.AUTOVACUUM]
    assert finding.verdict is Verdict.WARN
    assert "messages (autovacuum_enabled = false)" in finding.sentence
    assert "RESET (autovacuum_enabled) on messages" in finding.sentence


def test_transaction_pooler_stops_phase1_before_any_change(seeded_pg_url: str, pgbouncer: str) -> None:
    """Before the preflight, this run applied two DDL steps through the pooler and then died of
    `DuplicatePreparedStatement: prepared statement "_pg3_1" already exists`."""
    catalog = catalog_snapshot(seeded_pg_url)
    result = run_job(pgbouncer, "phase1_postgres")
    assert not result.success
    said = failures(result)
    sentence = next(s for s in said if "transaction-pooling proxy" in s)
    assert "PgBouncer" in sentence
    assert "point DATABASE_URL at the PostgreSQL server itself or at a session-mode pool" in sentence
    assert sentence.strip().endswith("session-mode pool.") and "Traceback" not in sentence
    assert not any("DuplicatePreparedStatement" in s for s in said)
    assert not result.asset_materializations_for_node("postgres_baseline")
    assert not dbopt_schema_exists(seeded_pg_url)
    assert catalog_snapshot(seeded_pg_url) == catalog


def test_a_pooler_refusing_dbopt_session_settings_is_one_sentence(
    pg_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], only_postgres_configured
) -> None:
    """PgBouncer without `ignore_startup_parameters = options` refuses dbopt's connections:
    one sentence naming it and the fix, not libpq's error."""
    with start_pgbouncer(tmp_path, pg_url, ignore_options=False) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert cli.main(["plan"]) == 2
    err = capsys.readouterr().err.strip()
    assert "leads to a connection pooler (PgBouncer: unsupported startup parameter" in err, err
    assert err.endswith("point DATABASE_URL at the PostgreSQL server itself or at a session-mode pool."), err
    assert len(err.splitlines()) == 1


def test_a_bad_threshold_is_one_sentence_before_anything_connects() -> None:
    from pipelines.definitions import defs
    from pipelines.resources import PostgresResource

    # Port 1: nothing listens there, so reaching the server would be a different error.
    result = defs.resolve_job_def("preflight_postgres").execute_in_process(
        resources={"postgres": PostgresResource(database_url="postgresql://postgres@127.0.0.1:1/none")},
        run_config={"ops": {"postgres_preflight": {"config": {"warn_transaction_age_s": 600, "no_go_transaction_age_s": 60}}}},
        raise_on_error=False,
    )
    assert not result.success
    [message] = {m.strip() for m in failures(result)}  # the step's failure, repeated by the run's
    assert message.endswith(
        "Nothing was checked: warn_transaction_age_s in the config of postgres_preflight (600) is above "
        "no_go_transaction_age_s (60); make the warning threshold the lower one."
    )
    with pytest.raises(DboptError, match=r"^Nothing was checked: spare_connections in .* is -1 but must be a whole number between 0 and"):
        preflight.Thresholds(spare_connections=-1).check()


def test_long_transactions_replicas_and_headroom_against_their_thresholds() -> None:
    """The verdicts of the findings whose inputs a test cannot make cheaply on a real server
    (an hour-old transaction, a lagging replica, a full server, a killed run's session), from
    rows shaped as the SQL returns."""
    t = preflight.Thresholds(warn_transaction_age_s=60, no_go_transaction_age_s=300, max_replication_lag_s=10)
    session = {"pid": 42, "user_name": "app", "application_name": "report", "state": "active", "locked_tables": None}
    assert preflight.long_transactions([{**session, "xact_age_s": 30.0}], t, blind=False).verdict is Verdict.GO
    assert preflight.long_transactions([{**session, "xact_age_s": 90.0}], t, blind=False).verdict is Verdict.WARN
    late = preflight.long_transactions([{**session, "xact_age_s": 900.0}], t, blind=False)
    assert late.verdict is Verdict.NO_GO and "pid 42 (user app, report, open 900 s)" in late.sentence
    # A killed dbopt run's session idle in transaction: the server ends it soon, so a warning.
    ours = {**session, "application_name": "dbopt", "state": "idle in transaction", "locked_tables": ["messages"],
            "xact_age_s": 5.0, "state_age_s": 5.0, "state_since": "t1"}
    assert preflight.idle_in_transaction([ours], t, again=[ours]).verdict is Verdict.WARN
    app = {**ours, "application_name": "app"}
    assert preflight.idle_in_transaction([app], t, again=[app]).verdict is Verdict.NO_GO
    # Between two statements (idle for moments, or busy again at the second look): not stuck.
    assert preflight.idle_in_transaction([{**app, "state_age_s": 0.01}], t, again=[app]).verdict is Verdict.GO
    assert preflight.idle_in_transaction([app], t, again=[{**app, "state": "active"}]).verdict is Verdict.GO
    # Without pg_read_all_stats, a session's locks show but not its state: named as unseen.
    hidden = {**app, "state": None, "xact_age_s": None, "state_age_s": None, "pid": 77}
    blind = preflight.visibility({"role_name": "r", "sees_other_sessions": False}, [hidden])
    assert blind.verdict is Verdict.WARN and "pids 77 hold locks" in blind.sentence
    replica = {"application_name": "standby1", "client_addr": "10.0.0.2", "state": "streaming"}
    server = {"role_name": "dbopt"}
    assert preflight.replication(server, [{**replica, "replay_lag_s": 2.0}], t).verdict is Verdict.GO
    lagging = preflight.replication(server, [{**replica, "replay_lag_s": 30.0}], t)
    assert lagging.verdict is Verdict.WARN and "standby1" in lagging.sentence
    full = {
        "role_name": "dbopt", "max_connections": 100, "superuser_reserved": 3, "reserved": 0, "connections_now": 95,
        "role_connection_limit": -1, "role_connections_now": 1, "database_connection_limit": -1,
        "database_connections_now": 1,
    }
    assert preflight.connection_headroom(full, t).verdict is Verdict.NO_GO
    assert preflight.connection_headroom({**full, "connections_now": 90}, t).verdict is Verdict.WARN
    assert preflight.connection_headroom({**full, "connections_now": 80}, t).verdict is Verdict.WARN
    assert preflight.connection_headroom({**full, "connections_now": 10}, t).verdict is Verdict.GO
