"""Instants given in run config (`as_of`, `now`): one parser, one sentence per mistake.

A typo in a year turns a clean-up into "drop everything", so an instant later than the
ClickHouse server's own clock (plus a small allowed skew) is refused before anything
changes; the server's clock, not the dbopt host's, because that is what stamps events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dbopt import sqlfiles
from dbopt.clickhouse.client import ClickHouse
from dbopt.errors import DboptError

EXAMPLE = "2025-01-31T12:00:00Z"


SERVER_CLOCK = "the ClickHouse server's clock"


def parse(field: str, text: str, *, now: datetime, max_ahead: timedelta, clock: str = SERVER_CLOCK) -> datetime:
    """`text` as an aware UTC instant (UTC unless it says otherwise), at most `max_ahead` after `now`."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DboptError(f"{field} {text!r} is not an ISO 8601 time; write it like {EXAMPLE}.") from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return not_ahead(field, value.astimezone(UTC), now=now, max_ahead=max_ahead, clock=clock)


def not_ahead(field: str, value: datetime, *, now: datetime, max_ahead: timedelta, clock: str = SERVER_CLOCK) -> datetime:
    """`value`, unless it is more than `max_ahead` later than `now` (then one sentence)."""
    if value > now + max_ahead:
        raise DboptError(
            f"{field} {value.strftime('%Y-%m-%dT%H:%M:%SZ')} is in the future: later than {clock} "
            f"({now.strftime('%Y-%m-%dT%H:%M:%SZ')}) by more than {max_ahead.total_seconds():.0f}s; give a past instant "
            f"like {EXAMPLE} (or leave it empty for now)."
        )
    return value


def server_now(ch: ClickHouse) -> datetime:
    """The ClickHouse server's clock (what stamps `now64()` in events and retention)."""
    value = ch.scalar(sqlfiles.read("clickhouse/phase1/common/server_now.sql"))
    return value if isinstance(value, datetime) else datetime.now(UTC)
