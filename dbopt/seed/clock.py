"""One notion of time for both databases, so posts in PostgreSQL and ClickHouse agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class SeedClock:
    as_of: datetime  # the newest event; "now" when the seed ran
    t0: datetime  # 13 months before, at midnight
    post_span_s: int  # posts are spread from t0 to as_of
    conversation_span_s: int  # conversations start within the first year

    @classmethod
    def now(cls, months: int = 13) -> SeedClock:
        as_of = datetime.now(UTC).replace(microsecond=0)
        t0 = (as_of - timedelta(days=round(months * 30.4))).replace(hour=0, minute=0, second=0)
        span = int((as_of - t0).total_seconds())
        return cls(as_of=as_of, t0=t0, post_span_s=span, conversation_span_s=min(span, 365 * 86400))
