"""Cursors for keyset pagination (plan 3.3), done so they round-trip.

The plan's `decode_cursor` splits `base64("2025-10-28T12:00:00+00:00:uuid")` on ':' and
expects two parts; an RFC 3339 timestamp has two colons of its own (three with an offset),
so it rejects every cursor `encode_cursor` makes. It also drops microseconds in some
renderings, so a page boundary inside a run of equal `created_at` values would skip or
repeat rows.

Here a cursor is the row's `created_at` as integer microseconds since the epoch (exactly
what PostgreSQL's timestamptz holds) and its uuid, packed in 25 bytes with a version byte,
followed by 14 bytes of an HMAC-SHA256 over a scope (e.g. `messages:<conversation id>`) and the payload, all
URL-safe base64 without padding. So a cursor round-trips exactly, cannot be edited to jump
elsewhere (or reused for another conversation or user), and anything else is refused with
`InvalidCursor`, a 400-style error that says what to do.

The key comes from `DBOPT_CURSOR_KEY`; without it a random key per process (fine for one
process; set the variable so cursors survive restarts and work across instances).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dbopt.errors import DboptError

VERSION = 1
_PAYLOAD = struct.Struct(">Bq16s")  # version, microseconds since the epoch, uuid bytes
_MAC_BYTES = 14  # 25 + 14 = 39 bytes: 52 base64 characters, no padding bits to play with
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_LENGTH = 64  # a cursor is 52 characters; anything much longer is not one of ours


class InvalidCursor(DboptError):
    """A client sent a cursor this service did not issue (HTTP 400)."""

    status = 400


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID


def _micros(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError("cursor timestamps must be timezone-aware (timestamptz)")
    delta = ts.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class CursorCodec:
    """Encode and decode cursors with one key."""

    def __init__(self, key: bytes | str) -> None:
        self._key = key.encode() if isinstance(key, str) else key
        if len(self._key) < 16:
            raise DboptError("The cursor key is shorter than 16 bytes; set DBOPT_CURSOR_KEY to a long random string.")

    def _mac(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, created_at: datetime, row_id: uuid.UUID | str, scope: str = "") -> str:
        """The cursor that continues after the row (created_at, row_id)."""
        rid = row_id if isinstance(row_id, uuid.UUID) else uuid.UUID(str(row_id))
        payload = _PAYLOAD.pack(VERSION, _micros(created_at), rid.bytes)
        return base64.urlsafe_b64encode(payload + self._mac(scope, payload)).rstrip(b"=").decode("ascii")

    def decode(self, token: str, scope: str = "") -> Cursor:
        """The row a cursor points after; `InvalidCursor` for anything this codec did not issue."""
        if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
            raise _invalid("it is empty or too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise _invalid("it is not URL-safe base64") from None
        if len(raw) != _PAYLOAD.size + _MAC_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != token:
            raise _invalid("it has the wrong length or encoding")
        payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        if not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise _invalid("it was altered, or was issued for another list or by another key")
        version, micros, rid = _PAYLOAD.unpack(payload)
        if version != VERSION:
            raise _invalid(f"its version {version} is not supported")
        try:
            created_at = _EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            raise _invalid("its timestamp is out of range") from None
        return Cursor(created_at, uuid.UUID(bytes=rid))


def _invalid(reason: str) -> InvalidCursor:
    return InvalidCursor(
        f"Invalid cursor: {reason}; request the first page without a cursor and follow the next_cursor values "
        f"it returns."
    )


_default: CursorCodec | None = None


def default_codec() -> CursorCodec:
    """The process's codec: DBOPT_CURSOR_KEY, or a random key for this process."""
    global _default
    if _default is None:
        key = os.environ.get("DBOPT_CURSOR_KEY") or secrets.token_hex(32)
        _default = CursorCodec(key)
    return _default


def encode_cursor(created_at: datetime, row_id: uuid.UUID | str, scope: str = "") -> str:
    return default_codec().encode(created_at, row_id, scope)


def decode_cursor(token: str, scope: str = "") -> Cursor:
    return default_codec().decode(token, scope)
