"""The plan's partition alert (> 36) on ClickHouse (chDB), and its sensor launching partition_cleanup."""

from __future__ import annotations

from tests.monitoring.clickhouse_state import partition_count, push_past_alert
from tests.monitoring.conftest import NOWHERE, Case, SensorDriver, materialized, monitor, remedy_flow


def test_partition_count_sensor_launches_partition_cleanup(instance, ch, ch_url) -> None:
    push_past_alert(ch, months=20)  # below the alert: 20 monthly partitions

    def evaluate():
        result = monitor(instance, "monitor_clickhouse", ch=ch_url)
        figures = materialized(result, "clickhouse_partitions")
        assert figures["partition_counts"]["likes_cdc"] == figures["max_partitions"]
        return result

    def fixed():
        assert partition_count(ch) == 25  # 24 months of retention, and the current one

    remedy_flow(
        evaluate,
        Case(SensorDriver(instance, "partition_count_sensor"), "partition_count_alert", "partition_cleanup",
             lambda: push_past_alert(ch, months=40), fixed, good={"ch": ch_url}, bad={"ch": NOWHERE["ch"]},
             expect_value=40),
    )
