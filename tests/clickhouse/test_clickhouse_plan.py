"""clickhouse_plan (issue 15): a plan per step calibrated from a sample in a scratch database,
and the receipt that compares it with what each step took."""

from __future__ import annotations

import pytest

from dbopt.clickhouse import rollout_plan
from dbopt.errors import DboptError
from tests.clickhouse.conftest import CDC_TABLES, counts


def test_plan_per_step_from_a_measured_sample(seeded_ch) -> None:
    ch = seeded_ch
    plan = rollout_plan.compute(ch, sample_rows=1000)
    steps = {s.step: s for s in plan.steps}
    assert steps["cdc_partitioning"].rows == sum(counts(ch).values())
    assert steps["cdc_partitioning"].disk_bytes > 0
    assert all(0 < s.low_s < s.seconds < s.high_s for s in plan.steps)
    cal = plan.calibration
    assert set(cal.copy_rows_per_s) == set(CDC_TABLES) and cal.rows_per_s > 0
    # Each sample is one whole month of its table, copied with the repartition's own statement
    # (a copy of the table's first rows skipped the month filter's scan: 2.3x too fast on medium).
    for table, n in cal.sample_rows.items():
        months = ch.rows(f"SELECT count() FROM {table} GROUP BY toYYYYMM(event_ts)")
        assert n in {m[0] for m in months} and n <= 2000, (table, n)
    assert not ch.rows("SELECT name FROM system.databases WHERE name LIKE 'dbopt_plan_scratch_%'")
    lines = rollout_plan.format_plan(plan)
    assert lines[0].startswith("ClickHouse plan (phase1_clickhouse):") and len(lines) == 6


def test_a_sample_too_small_is_one_sentence(seeded_ch) -> None:
    with pytest.raises(DboptError, match=r"^sample_rows is 10; set 1000 or more"):
        rollout_plan.compute(seeded_ch, sample_rows=10)


def test_receipt_per_step_and_total() -> None:
    predicted = [{"step": "cdc_partitioning", "seconds": 10.0, "low_s": 7.0, "high_s": 14.0},
                 {"step": "post_metrics_1h", "seconds": 4.0, "low_s": 2.8, "high_s": 5.6}]
    rows = rollout_plan.receipt(predicted, {"clickhouse.cdc_partitioning": 12.0, "clickhouse.post_metrics_1h": 6.0})
    assert [r["step"] for r in rows] == ["cdc_partitioning", "post_metrics_1h", "total"]
    assert rows[0]["within range"] is True and rows[1]["within range"] is False
    assert rows[2]["predicted_s"] == 14.0 and rows[2]["actual_s"] == 18.0 and rows[2]["actual/predicted"] == 1.29
    nothing_to_do = rollout_plan.receipt([{**predicted[0], "seconds": 0.0, "low_s": 0.0, "high_s": 0.0}],
                                         {"clickhouse.cdc_partitioning": 0.4})
    assert nothing_to_do[0]["actual/predicted"] is None  # a rerun with nothing to copy: no ratio, no crash
    assert "took 0.4 s (outside the range)" in rollout_plan.format_receipt(nothing_to_do)[0]
    partial = rollout_plan.receipt(predicted, {"clickhouse.cdc_partitioning": 12.0})
    assert partial[-1]["actual_s"] is None
    assert "not run" in rollout_plan.format_receipt(partial)[1]
