"""A ClickHouse table past the plan's partition alert: likes_cdc partitioned by month (as after
Phase 1), with events in each of the last `months` months. Light on imports, so a subprocess
can use it on a chDB folder of its own:

    python -m tests.monitoring.clickhouse_state URL MONTHS   # push, then print the partition count
    python -m tests.monitoring.clickhouse_state URL          # print the partition count only
"""

from __future__ import annotations

import sys

LIKES_BY_MONTH = """
CREATE TABLE IF NOT EXISTS likes_cdc (
    post_id UUID, user_id UUID, created_at DateTime64(3, 'UTC'), op Enum8('c' = 1, 'u' = 2, 'd' = 3),
    event_ts DateTime64(3, 'UTC'), version UInt64
) ENGINE = MergeTree PARTITION BY toYYYYMM(event_ts) ORDER BY (post_id, user_id, version)
"""
EVENTS = """
INSERT INTO likes_cdc
SELECT generateUUIDv4(), generateUUIDv4(), ts, 'c', ts, number
FROM (SELECT number, subtractMonths(toDateTime64(now(), 3, 'UTC'), intDiv(number, 10)) AS ts
      FROM numbers({months:UInt32} * 10))
"""
PARTITIONS = """
SELECT uniqExact(partition_id) FROM system.parts
WHERE database = currentDatabase() AND table = 'likes_cdc' AND active AND rows > 0
"""


def push_past_alert(ch, months: int = 40) -> None:
    ch.command(LIKES_BY_MONTH)
    ch.command(EVENTS, {"months": months})


def partition_count(ch) -> int:
    return int(ch.scalar(PARTITIONS))


if __name__ == "__main__":
    from dbopt.clickhouse.client import connect

    with connect(sys.argv[1]) as client:
        if len(sys.argv) > 2:
            push_past_alert(client, int(sys.argv[2]))
        print(partition_count(client))
