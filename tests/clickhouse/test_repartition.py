"""The repartition keeps every event, even those written while it runs, and can resume."""

from __future__ import annotations

import pytest

from dbopt.clickhouse import catalog, repartition
from dbopt.clickhouse.ddl import Ddl
from tests.clickhouse.conftest import CDC_TABLES, EventWriter, counts, fingerprint


def _interleaving_hook(writer: EventWriter):
    """Make sure the writer thread writes between the step's statements: after the first
    two months copied, after the last (so the catch-up has events to bring), before the swap
    and, right after it, one batch into the old table, like an INSERT that started before
    the swap and finished after it."""
    months: dict[str, int] = {}

    def hook(table: str, phase: str) -> None:
        if phase == "month_copied":
            months[table] = months.get(table, 0) + 1
            if months[table] <= 2:
                writer.wait_for_batches(1)
        elif phase == "after_swap":
            writer.redirect[table] = repartition.work_name(table)
            writer.wait_for_batches(2)
        else:
            writer.wait_for_batches(1)

    return hook


def test_events_written_during_the_repartition_and_its_rollback_are_all_kept(seeded_ch, ch_url) -> None:
    ch = seeded_ch
    baseline = counts(ch)
    writer = EventWriter(ch_url)
    writer.start()
    try:
        reports = [repartition.repartition(ch, Ddl(), t, hook=_interleaving_hook(writer)) for t in CDC_TABLES]
        writer.wait_for_batches(1)  # and more after the last swap
        written_before_rollback = {t: writer.total(t) for t in CDC_TABLES}

        infos = catalog.tables(ch, list(CDC_TABLES))
        assert all(infos[t].partition_key == "toYYYYMM(event_ts)" and infos[t].sorting_key for t in CDC_TABLES)
        assert not catalog.tables(ch, like="%\\_\\_repart%"), "no work table is left behind"
        # The interleaving really happened: events were caught up before each swap, and the
        # batch written into the old table after it was reconciled.
        for report in reports:
            assert report.caught_up_before_swap > 0, report.as_dict()
            assert report.reconciled_after_swap > 0, report.as_dict()
            assert report.backup and report.backup.startswith(f"{report.table}__backup_")

        # The rollback, with the writer still writing, brings back the baseline tables
        # with every event, including those written only to the partitioned tables.
        restored = [repartition.restore_baseline(ch, Ddl(), t, hook=_interleaving_hook(writer)) for t in CDC_TABLES]
        assert [r.action for r in restored] == ["restored"] * len(CDC_TABLES)
    finally:
        writer.stop()

    writer.assert_all_present(ch, baseline)
    assert all(writer.total(t) > written_before_rollback[t] for t in CDC_TABLES)
    infos = catalog.tables(ch, like="%")
    assert set(infos) == set(CDC_TABLES), "only the baseline tables remain"
    assert all(infos[t].partition_key == "" for t in CDC_TABLES)
    # Idempotent: a second rollback has nothing to do and changes nothing.
    before = {t: fingerprint(ch, t) for t in CDC_TABLES}
    assert [repartition.restore_baseline(ch, Ddl(), t).action for t in CDC_TABLES] == ["already baseline"] * 6
    assert {t: fingerprint(ch, t) for t in CDC_TABLES} == before


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_at", ["month_copied", "before_swap", "after_swap"])
def test_an_interrupted_repartition_resumes_without_loss_or_duplicates(seeded_ch, crash_at) -> None:
    ch = seeded_ch
    table = "likes_cdc"
    before = fingerprint(ch, table)
    seen = []

    def crash(t: str, phase: str) -> None:
        seen.append(phase)
        if phase == crash_at and seen.count(phase) == 3 if phase == "month_copied" else phase == crash_at:
            raise Crash(phase)

    with pytest.raises(Crash):
        repartition.repartition(ch, Ddl(), table, hook=crash)
    report = repartition.repartition(ch, Ddl(), table)
    assert fingerprint(ch, table) == before
    assert catalog.table(ch, table).partition_key == "toYYYYMM(event_ts)"
    if crash_at == "month_copied":
        assert report.months_skipped == 3 and report.action == "repartitioned"
    if crash_at == "after_swap":
        assert report.action == "resumed after swap"
    assert len([n for n in catalog.tables(ch, like=f"{table}\\_\\_%")]) == 1  # the backup only
    assert repartition.repartition(ch, Ddl(), table).action == "already partitioned"


def test_a_missing_table_is_one_sentence(ch) -> None:
    with pytest.raises(Exception, match=r"table likes_cdc does not exist .*run again\.$"):
        repartition.repartition(ch, Ddl(), "likes_cdc")
