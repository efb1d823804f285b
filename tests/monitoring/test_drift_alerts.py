"""Drift alerts and their remedies on PostgreSQL after Phase 1: counters, sequence numbers, INVALID indexes."""

from __future__ import annotations

import uuid

import psycopg

from tests.monitoring.conftest import (
    Case,
    SensorDriver,
    check,
    materialized,
    monitor,
    remedy_flow,
    unreachable_pg,
)

LARGEST = "SELECT conversation_id FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT %s"
INDEX = "idx_messages_conversation_created_id"


def _sql(url: str, statement: str, args: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, args)
        return cur.fetchall() if cur.description else []


def _largest(url: str, n: int) -> list:
    return [r[0] for r in _sql(url, LARGEST, (n,))]


def _invalidate(url: str, index: str) -> None:
    """What a failed CREATE INDEX CONCURRENTLY leaves behind: an index marked not valid."""
    _sql(url, "UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass(%s)", (index,))


def test_drift_sensors_launch_their_remedies(instance, phase1_pg_url) -> None:
    """Counters, sequence numbers and an index drift at once; each sensor launches its own remedy."""
    url = phase1_pg_url
    good, bad = {"pg": url}, {"pg": unreachable_pg(url)}

    def break_counters():  # the largest conversations are always in the sample
        _sql(url, "UPDATE conversations SET member_count = member_count + 5 WHERE id = ANY(%s)", (_largest(url, 3),))

    def counters_fixed():
        wrong = _sql(url, "SELECT count(*) FROM conversations c WHERE member_count <> "
                          "(SELECT count(*) FROM conversation_members m WHERE m.conversation_id = c.id)")
        assert wrong == [(0,)]

    def break_sequence():  # counters behind: the next message would take a number already used
        _sql(url, "UPDATE conversations SET last_sequence_number = last_sequence_number - 2 WHERE id = ANY(%s)",
             (_largest(url, 2),))

    def sequence_fixed():
        behind = _sql(url, "SELECT count(*) FROM conversations c WHERE last_sequence_number < "
                           "(SELECT coalesce(max(sequence_number), 0) FROM messages m WHERE m.conversation_id = c.id)")
        assert behind == [(0,)]
        conversation = _largest(url, 1)[0]  # and the trigger numbers the next message without a clash
        top = _sql(url, "SELECT max(sequence_number) FROM messages WHERE conversation_id = %s", (conversation,))[0][0]
        new = _sql(url, "INSERT INTO messages (id, conversation_id, sender_id, content) VALUES (%s, %s, %s, 'hi') "
                        "RETURNING sequence_number", (uuid.uuid4(), conversation, uuid.uuid4()))[0][0]
        assert new == top + 1

    def index_fixed():
        assert _sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (INDEX,)) == [(True,)]

    remedy_flow(
        lambda: monitor(instance, "monitor_drift", pg=url),
        Case(SensorDriver(instance, "counter_drift_sensor"), "counter_drift_alert", "reconcile_conversation_counters",
             break_counters, counters_fixed, good, bad, expect_value=3),
        Case(SensorDriver(instance, "sequence_drift_sensor"), "sequence_drift_alert", "reconcile_sequence_numbers",
             break_sequence, sequence_fixed, good, bad, expect_value=2),
        Case(SensorDriver(instance, "invalid_index_sensor"), "invalid_index_alert", "rebuild_invalid_indexes",
             lambda: _invalidate(url, INDEX), index_fixed, good, bad, expect_value=1),
    )


def test_an_invalid_index_that_is_not_dbopts_launches_nothing(instance, phase1_pg_url) -> None:
    url = phase1_pg_url
    _sql(url, "CREATE INDEX CONCURRENTLY app_posts_status ON posts (status)")
    _invalidate(url, "app_posts_status")
    result = monitor(instance, "monitor_drift", pg=url)
    passed, md = check(result, "invalid_index_alert")
    assert not passed and md["value"] == 1 and md["remediable"] is False
    reason = SensorDriver(instance, "invalid_index_sensor").skip()
    assert "nothing launched" in reason and "posts.app_posts_status" in reason and "not dbopt's" in reason


def test_drift_is_not_sampled_before_phase1(instance, seeded_pg_url) -> None:
    result = monitor(instance, "monitor_drift", pg=seeded_pg_url)
    assert materialized(result, "postgres_drift")["counters_sampled"] is False
    for name in ("counter_drift_alert", "sequence_drift_alert"):
        passed, md = check(result, name)
        assert passed and "value" not in md and "Phase 1" in md["note"]
    assert SensorDriver(instance, "counter_drift_sensor").skip().startswith("Not judged:")
