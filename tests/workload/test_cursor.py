"""The cursor codec: round trips, refuses what it did not issue, pages through ties."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from dbopt.cursor import CursorCodec, InvalidCursor
from dbopt.errors import DboptError
from dbopt.workload import service

CODEC = CursorCodec("a test key of at least sixteen bytes")


@pytest.mark.parametrize("ts", [
    datetime(2025, 10, 28, 12, 0, 0, tzinfo=UTC),
    datetime(2025, 10, 28, 12, 0, 0, 123456, tzinfo=UTC),
    datetime(2025, 10, 28, 12, 0, 0, 1, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
])
def test_round_trip_keeps_every_microsecond_and_the_id(ts: datetime) -> None:
    row_id = uuid.uuid4()
    token = CODEC.encode(ts, row_id, "messages:c1")
    cursor = CODEC.decode(token, "messages:c1")
    assert cursor.created_at == ts and cursor.created_at.tzinfo == UTC
    assert cursor.id == row_id
    assert token.isascii() and "=" not in token and len(token) <= 64


def test_the_plans_format_does_not_round_trip_and_ours_does() -> None:
    """plan 3.3 encodes "<rfc3339>:<uuid>" and splits on ':' expecting two parts."""
    ts, row_id = datetime(2025, 10, 28, 12, 0, tzinfo=UTC), uuid.uuid4()
    plan_cursor = f"{ts.isoformat()}:{row_id}"
    assert len(plan_cursor.split(":")) != 2  # the plan's decode_cursor rejects its own cursor
    assert CODEC.decode(CODEC.encode(ts, row_id)).created_at == ts


def flip(token: str, i: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return token[:i] + alphabet[(alphabet.index(token[i]) + 1) % 64] + token[i + 1 :]


def test_every_single_character_change_is_refused() -> None:
    token = CODEC.encode(datetime.now(UTC), uuid.uuid4(), "posts:u1")
    for i in range(len(token)):
        with pytest.raises(InvalidCursor):
            CODEC.decode(flip(token, i), "posts:u1")


def test_a_rewritten_timestamp_with_valid_encoding_is_refused() -> None:
    """An attacker who decodes the cursor, moves the timestamp and encodes it again."""
    ts, row_id = datetime(2025, 1, 1, tzinfo=UTC), uuid.uuid4()
    raw = bytearray(base64.urlsafe_b64decode(CODEC.encode(ts, row_id) + "=="))
    raw[5] ^= 0x01  # inside the timestamp
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidCursor, match="altered"):
        CODEC.decode(forged)


def test_a_cursor_is_bound_to_its_list_and_key() -> None:
    token = CODEC.encode(datetime.now(UTC), uuid.uuid4(), "messages:conversation-a")
    with pytest.raises(InvalidCursor):
        CODEC.decode(token, "messages:conversation-b")
    with pytest.raises(InvalidCursor):
        CursorCodec("another key, sixteen bytes or more").decode(token, "messages:conversation-a")


@pytest.mark.parametrize("garbage", ["", "not a cursor!", "AAAA", "A" * 65, "%%%%", "MjAyNS0xMC0yOFQxMjowMDowMFo6dXVpZA",
                                     base64.urlsafe_b64encode(b"\x02" + b"\x00" * 36).decode()])
def test_malformed_cursors_get_one_400_style_sentence(garbage: str) -> None:
    with pytest.raises(InvalidCursor) as err:
        CODEC.decode(garbage)
    message = str(err.value)
    assert err.value.status == 400 and isinstance(err.value, DboptError)
    assert message.startswith("Invalid cursor: ") and "first page without a cursor" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_naive_timestamps_and_short_keys_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        CODEC.encode(datetime(2025, 1, 1), uuid.uuid4())
    with pytest.raises(DboptError):
        CursorCodec("short")


def _conversation_with_ties(url: str, messages: int, per_instant: int) -> uuid.UUID:
    """A conversation whose messages share created_at in runs of `per_instant` (microsecond
    precision in between), plus the sequence_number column plan 3.2 reads."""
    conv = uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE messages ADD COLUMN IF NOT EXISTS sequence_number bigint")
        conn.execute("INSERT INTO conversations (id) VALUES (%s)", (conv,))
        conn.execute(
            "INSERT INTO messages (id, conversation_id, sender_id, content, created_at) "
            "SELECT gen_random_uuid(), %s, gen_random_uuid(), 'm' || g, "
            "timestamptz '2025-10-28 12:00:00.000001+00' + (g / %s) * interval '1 microsecond' "
            "FROM generate_series(0, %s - 1) AS g",
            (conv, per_instant, messages),
        )
    return conv


def test_paging_through_equal_created_at_never_skips_or_repeats(seeded_pg_url: str) -> None:
    conv = _conversation_with_ties(seeded_pg_url, messages=503, per_instant=7)
    scope = f"messages:{conv}"
    with psycopg.connect(seeded_pg_url, autocommit=True) as conn:
        expected = [r[0] for r in conn.execute(
            "SELECT id FROM messages WHERE conversation_id = %s ORDER BY created_at, id", (conv,))]
        seen, token, pages = [], None, 0
        while True:
            page = service.messages_cursor(conn, conv, 50, service.decode(token, scope, CODEC))
            if not page:
                break
            pages += 1
            assert [r["id"] for r in page] == [r["id"] for r in service.messages_offset(conn, conv, 50, len(seen))]
            seen += [r["id"] for r in page]
            token = service.next_cursor(page, scope, CODEC)
        assert pages == 11
        assert seen == expected  # every message once, in order: nothing skipped, nothing repeated
