"""Cluster mode: with a cluster name, every DDL carries ON CLUSTER and MergeTree engines
become Replicated; the rendered SQL is checked by ClickHouse's own parser (EXPLAIN AST)."""

from __future__ import annotations

import re

import pytest

from dbopt import sqlfiles
from dbopt.clickhouse.ddl import Ddl, ident
from dbopt.errors import DboptError
from dbopt.paths import SQL_DIR

DDL = re.compile(r"^\s*(CREATE|DROP|EXCHANGE|RENAME|ALTER|TRUNCATE)\b", re.I | re.M)
# Identifier and text placeholders the files take, with values a step would pass.
SAMPLE = {
    "table": "likes_cdc", "target": "likes_cdc__repart", "sorting_key": "post_id, user_id, version",
    "name": "x_table", "like": "likes_cdc", "a": "t_a", "b": "t_b", "old": "t_old", "new": "t_new",
    "source": "likes_cdc", "partition_id": "202401", "view": "post_metrics_1h_from_likes_cdc",
    "events": "post_metrics_1h_events", "select": "SELECT 1 AS x", "posts": "w_posts", "follows": "w_follows",
    "affinity": "w_affinity", "staging": "w_staging", "carry": "dbopt_carry_likes_cdc", "into": "w_into",
    "columns": "post_id, user_id, event_ts", "source_filter": "", "cutoff": "2025-01-01 00:00:00.000",
    "user_column": "user_id UUID,", "order_by": "user_id, post_id", "pairs": "w_pairs", "key": "post_id, hour",
}


def _ddl_files() -> list[str]:
    files = []
    for path in sorted(SQL_DIR.joinpath("clickhouse").rglob("*.sql")):
        rel = path.relative_to(SQL_DIR).as_posix()
        if rel.startswith(("clickhouse/phase1/", "clickhouse/partition_maintenance/")) and "{{on_cluster}}" in path.read_text():
            files.append(rel)
    return files


def test_every_ddl_statement_takes_on_cluster() -> None:
    """No CREATE/DROP/EXCHANGE/RENAME/ALTER (except attaching parts) is written without {{on_cluster}}
    (the benchmark's statements run on chDB only)."""
    missing = []
    for path in sorted(SQL_DIR.joinpath("clickhouse").rglob("*.sql")):
        rel = path.relative_to(SQL_DIR).as_posix()
        if not rel.startswith(("clickhouse/phase1/", "clickhouse/partition_maintenance/")) or rel.endswith(".fragment.sql") \
                or rel.startswith("clickhouse/phase1/benchmark/"):
            continue
        for stmt in sqlfiles.split(path.read_text(), backslash_escapes=True):
            code = "\n".join(line for line in stmt.splitlines() if not line.lstrip().startswith("--"))
            if DDL.search(code) and "{{on_cluster}}" not in code and "ATTACH PARTITION" not in code:
                missing.append(f"{rel}: {code.split(chr(10))[0]}")
    assert not missing, missing
    assert len(_ddl_files()) >= 15


@pytest.mark.parametrize("rel", _ddl_files())
def test_cluster_mode_renders_on_cluster_and_replicated_engines(rel: str, ch) -> None:
    single = Ddl().load(rel, **SAMPLE)
    cluster = Ddl("feed_cluster").load(rel, **SAMPLE)
    assert "ON CLUSTER" not in single and "Replicated" not in single
    statements = [s for s in sqlfiles.split(cluster, backslash_escapes=True) if DDL.search(s)]
    assert statements
    for stmt in statements:
        if "ATTACH PARTITION" not in stmt:
            assert "ON CLUSTER `feed_cluster`" in stmt, stmt
        engines = re.findall(r"ENGINE\s*=\s*(\w+)", stmt)
        assert all(e.startswith("Replicated") or not e.endswith("MergeTree") for e in engines), stmt
        assert not re.search(r"ENGINE\s*=\s*(Summing|Aggregating|Replacing)?MergeTree\b", stmt)
        ch.rows("EXPLAIN AST " + stmt)  # ClickHouse's parser accepts it


def test_engine_mapping_and_identifiers() -> None:
    ddl = Ddl("c1")
    assert ddl.engine("MergeTree") == "ReplicatedMergeTree"
    assert ddl.engine("SummingMergeTree") == "ReplicatedSummingMergeTree"
    assert ddl.engine("ReplicatedMergeTree") == "ReplicatedMergeTree"
    assert ddl.engine("Null") == "Null"
    assert Ddl().engine("MergeTree") == "MergeTree"
    assert Ddl().values()["on_cluster"] == ""
    assert Ddl("a`b").on_cluster == "ON CLUSTER `a\\`b`"
    with pytest.raises(DboptError, match="not a plain ClickHouse identifier"):
        ident("x; DROP TABLE y")
    rendered = ddl.load("clickhouse/phase1/feed_rollups/010_post_metrics_1h.sql")
    assert "ENGINE = ReplicatedSummingMergeTree" in rendered and "ENGINE = Null" in rendered
    assert rendered.count("ON CLUSTER `c1`") == 3


def test_inflight_inserts_are_looked_for_on_every_replica_in_cluster_mode(ch) -> None:
    """On a cluster an INSERT sent to another replica still writes into the old table: the
    wait before the reconcile reads system.processes of every replica."""
    rel = "clickhouse/phase1/cdc_partitioning/050_inflight_inserts.sql"
    params = {"table": "likes_cdc", "since_swap_s": 0.5}
    single = Ddl().load(rel)
    assert "FROM system.processes" in single and "clusterAllReplicas" not in single
    assert ch.scalar(single, params) == 0  # runs here: no INSERT is running
    cluster = Ddl("feed's cluster").load(rel)
    assert "FROM clusterAllReplicas('feed\\'s cluster', system.processes)" in cluster
    body = "\n".join(line for line in cluster.splitlines() if not line.startswith("--"))
    ch.rows("EXPLAIN AST " + body.rstrip().rstrip(";").replace("{since_swap_s:Float64}", "0.5")
            .replace("{table:String}", "'likes_cdc'"))
    with pytest.raises(DboptError, match="not a system table"):
        Ddl("c").all_replicas("likes_cdc; DROP TABLE x")
