"""clickhouse_preflight (issue 15) on chDB: a no-go stops phase1_clickhouse before any change,
the views fed by the CDC tables are listed, and the preflight and plan write nothing."""

from __future__ import annotations

import pytest

from dbopt.clickhouse import preflight, rollout_plan
from dbopt.errors import DboptError
from dbopt.preflight import Verdict
from tests.clickhouse.conftest import (
    CDC_TABLES,
    check_evaluations,
    counts,
    failure_messages,
    fingerprint,
    materializations,
    run_job,
)


def catalog_state(ch) -> dict:
    """Every table of the test's database with its definition and rows, and the server's databases."""
    tables = {name: (create, rows) for name, create, rows in ch.rows(
        "SELECT name, create_table_query, total_rows FROM system.tables WHERE database = currentDatabase()")}
    databases = sorted(r[0] for r in ch.rows("SELECT name FROM system.databases"))
    return {"tables": tables, "databases": databases, "data": {t: fingerprint(ch, t) for t in CDC_TABLES}}


def test_too_little_disk_is_a_no_go_that_stops_phase1_before_any_change(seeded_ch, ch_url) -> None:
    before = catalog_state(seeded_ch)
    run_config = {"ops": {"clickhouse_preflight": {"config": {"max_disk_use": 1e-12}}}}
    result = run_job("phase1_clickhouse", ch_url, run_config)

    disk = check_evaluations(result)[("clickhouse_preflight", "clickhouse_disk_space")]
    assert not disk.passed and disk.severity.value == "ERROR"
    sentence = disk.metadata["what it means"].value
    assert "needs" in sentence and "max_disk_use 1e-12" in sentence and "free" in sentence, sentence
    assert disk.metadata["verdict"].value == "no_go"
    assert "bytes needed" in disk.metadata["value"].value and "bytes allowed" in disk.metadata["threshold"].value
    # Nothing of the rollout ran: no step materialized, no ledger, the tables as they were.
    assert set(materializations(result)) == {"clickhouse_preflight"}
    assert catalog_state(seeded_ch) == before


def test_views_are_listed_and_preflight_and_plan_write_nothing(seeded_ch) -> None:
    ch = seeded_ch
    ch.command("CREATE TABLE likes_per_post (post_id UUID, n UInt64) ENGINE = SummingMergeTree ORDER BY post_id")
    ch.command("CREATE MATERIALIZED VIEW likes_per_post_mv TO likes_per_post AS "
               "SELECT post_id, count() AS n FROM likes_cdc GROUP BY post_id")
    before = catalog_state(ch)

    found = {f.name: f for f in preflight.findings(ch)}
    plan = rollout_plan.compute(ch, sample_rows=1000)

    views = found["clickhouse_materialized_views"]
    assert views.verdict is Verdict.GO and "likes_per_post_mv (on likes_cdc)" in views.sentence
    assert {"table": "likes_cdc", "view": "likes_per_post_mv"} in views.details
    tables = {d["table"]: d for d in found["clickhouse_cdc_tables"].details}
    assert {t: tables[t]["rows"] for t in CDC_TABLES} == counts(ch)
    assert all(tables[t]["months"] > 0 and tables[t]["bytes"] > 0 for t in CDC_TABLES)
    assert found["clickhouse_disk_space"].verdict is Verdict.GO
    assert [s.step for s in plan.steps] == ["cdc_partitioning", "post_metrics_1h", "user_author_90d", "feed_candidates"]
    assert catalog_state(ch) == before  # the scratch database of the calibration is gone too


def test_server_findings_name_the_version_and_engine() -> None:
    old = {f.name: f for f in preflight._server_findings({"version": "23.8.2.7", "database_engine": "Atomic"})}
    assert old["clickhouse_version"].verdict is Verdict.WARN and "24.1" in old["clickhouse_version"].sentence
    ordinary = {f.name: f for f in preflight._server_findings({"version": "24.3.1", "database_engine": "Ordinary"})}
    assert ordinary["clickhouse_database_engine"].verdict is Verdict.NO_GO
    assert "Ordinary" in ordinary["clickhouse_database_engine"].sentence
    assert ordinary["clickhouse_version"].verdict is Verdict.GO


@pytest.mark.parametrize(("field", "value"), [("max_disk_use", 0.0), ("max_disk_use", 1.5), ("derived_fraction", -1)])
def test_a_bad_threshold_is_one_sentence(field: str, value: float) -> None:
    with pytest.raises(DboptError) as refused:
        preflight.Thresholds(**{field: value}).validate()
    text = str(refused.value)
    assert text.startswith(f"{field} is ") and text.endswith(".") and "\n" not in text and ". " not in text, text


def test_a_bad_threshold_in_the_launchpad_stops_the_run_in_one_sentence(ch, ch_url) -> None:
    result = run_job("phase1_clickhouse", ch_url, {"ops": {"clickhouse_preflight": {"config": {"max_disk_use": 0}}}})
    assert not result.success
    (message,) = failure_messages(result)
    sentence = message.split("Failure: ", 1)[-1].strip()
    assert sentence.startswith("max_disk_use is 0.0, but it is a share of the free disk space;"), message
    assert "\n" not in sentence and ". " not in sentence
    assert not materializations(result)
    assert ch.rows("SELECT name FROM system.tables WHERE database = currentDatabase()") == []  # nothing written


def test_chdbs_default_database_is_accepted_and_a_servers_overlay_is_not(tmp_path) -> None:
    """`make demo` runs phase1_clickhouse in chDB's `default` database, whose engine is Overlay."""
    from dbopt.clickhouse.client import connect

    ch = connect(f"chdb://{tmp_path / 'chdb'}")
    try:
        assert ch.database == "default"
        found = {f.name: f for f in preflight.findings(ch)}
    finally:
        ch.close()
    engine = found["clickhouse_database_engine"]
    assert engine.value == "Overlay" and engine.verdict is Verdict.GO, engine.sentence
    server = {f.name: f for f in preflight._server_findings({"version": "24.3.1", "database_engine": "Overlay"})}
    assert server["clickhouse_database_engine"].verdict is Verdict.NO_GO


def test_dbopt_plan_prints_every_configured_systems_findings_and_the_clickhouse_plan(
    seeded_ch, ch_url: str, seeded_pg_url: str, embedded_redis, monkeypatch, capsys
) -> None:
    """`dbopt plan` runs the same preflights as the assets, per system, and ClickHouse's plan."""
    from dbopt import cli

    monkeypatch.setenv("DATABASE_URL", seeded_pg_url)
    monkeypatch.setenv("CLICKHOUSE_URL", ch_url)
    monkeypatch.setenv("REDIS_URL", embedded_redis.url())
    before = catalog_state(seeded_ch)
    code = cli.main(["plan"])
    out = capsys.readouterr().out
    assert code in (0, 1), out  # go or warn: nothing here is a no-go
    for text in ("PostgreSQL: ", "PostgreSQL plan (phase1_postgres)",
                 "ClickHouse: ", "clickhouse_disk_space", "clickhouse_cdc_tables", "ClickHouse plan (phase1_clickhouse)",
                 "Redis: ", "redis_memory", "redis_eviction_policy"):
        assert text in out, (text, out)
    assert catalog_state(seeded_ch) == before  # the plan's scratch copy is gone


def test_dbopt_plan_skips_a_system_not_configured_here(seeded_pg_url: str, monkeypatch, tmp_path, capsys) -> None:
    from dbopt import cli

    monkeypatch.setenv("DATABASE_URL", seeded_pg_url)
    monkeypatch.setenv("DBOPT_HOME", str(tmp_path / "nothing-started-here"))
    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    cli.main(["plan"])
    out = capsys.readouterr().out
    assert "ClickHouse: not configured here" in out and "Redis: not configured here" in out, out
