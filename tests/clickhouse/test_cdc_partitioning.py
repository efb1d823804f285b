"""The repartition keeps every event, even those written while it runs, and can resume."""

from __future__ import annotations

import pytest

from dbopt.clickhouse import catalog, repartition
from dbopt.clickhouse.ddl import Ddl
from dbopt.errors import DboptError
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


def _month_with_rows(ch, table: str, skip: int = 0) -> int:
    return int(ch.rows(f"SELECT toYYYYMM(event_ts) AS m FROM {table} GROUP BY m HAVING count() > 10 "
                       f"ORDER BY m LIMIT 1 OFFSET {skip}")[0][0])


def test_a_doubled_copy_and_a_source_delete_are_found_and_copied_again_before_the_swap(seeded_ch) -> None:
    ch = seeded_ch
    table, work = "likes_cdc", repartition.work_name("likes_cdc")
    doubled, deleted = _month_with_rows(ch, table), _month_with_rows(ch, table, 1)
    after_delete: list[tuple[int, int]] = []

    def hook(t: str, phase: str) -> None:
        if phase == "months_copied":
            # A retried copy whose first attempt the server finished after all ...
            ch.command(f"INSERT INTO {work} SELECT * FROM {table} WHERE toYYYYMM(event_ts) = {doubled}")
            # ... and the application deleting rows of a month already copied.
            ch.command(f"ALTER TABLE {table} DELETE WHERE toYYYYMM(event_ts) = {deleted} AND cityHash64(user_id) % 3 = 0 "
                       "SETTINGS mutations_sync = 2")
            after_delete.append(fingerprint(ch, table))

    report = repartition.repartition(ch, Ddl(), table, hook=hook)
    assert report.recopies == 2 and report.action == "repartitioned"
    assert after_delete and fingerprint(ch, table) == after_delete[0], "the live table equals the source"
    assert catalog.table(ch, table).partition_key == "toYYYYMM(event_ts)"


def test_a_month_that_keeps_extra_rows_is_never_swapped_in(seeded_ch) -> None:
    ch = seeded_ch
    table, work = "likes_cdc", repartition.work_name("likes_cdc")
    before = fingerprint(ch, table)
    month = _month_with_rows(ch, table)

    def hook(t: str, phase: str) -> None:
        if phase in ("months_copied", "recopied"):  # something keeps writing into the work table
            ch.command(f"INSERT INTO {work} SELECT * FROM {table} WHERE toYYYYMM(event_ts) = {month} LIMIT 5")

    with pytest.raises(DboptError, match=rf"^Months {month} of {work} still hold rows that {table} does not after 2 "
                                         rf"copies, so {table} was not swapped; .*run again\.$"):
        repartition.repartition(ch, Ddl(), table, hook=hook)
    assert catalog.table(ch, table).partition_key == "" and fingerprint(ch, table) == before
    # Once the stray writer is gone, a rerun copies the month again and swaps.
    assert repartition.repartition(ch, Ddl(), table).action == "repartitioned"
    assert fingerprint(ch, table) == before
