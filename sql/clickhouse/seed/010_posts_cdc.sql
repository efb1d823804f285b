-- Seed: post lifecycle events. Post n has id md5('p' || n) and the same author and
-- creation time as in PostgreSQL; 10% are updated a day later, and the 3% that
-- PostgreSQL soft-deletes (n % 33 = 2) get a 'd' event two days later.
-- Every seed file uses the same pattern: per-row arrays of ops and time offsets, one
-- event per element, version = event time in ms * 4 + position, so the highest version
-- of a key is its latest state even when events are clamped to as_of.
INSERT INTO posts_cdc (post_id, author_id, content_type, created_at, op, event_ts, version)
SELECT post_id, author_id, content_type, created_at, ops[k],
       least(created_at + toIntervalSecond(offsets[k]), {as_of:DateTime64(3, 'UTC')}) AS event_ts,
       toUInt64(toUnixTimestamp64Milli(event_ts)) * 4 + k
FROM (
    SELECT
        number + 1 AS n,
        (n * 2654435761) % 1000003 AS r,
        toUUID(UUIDNumToString(MD5(concat('p', toString(n))))) AS post_id,
        toUUID(UUIDNumToString(MD5(concat('u', toString(
            intDiv(intDiv(intDiv(r * r, 1000003) * r, 1000003) * {users:UInt64}, 1000003)))))) AS author_id,
        if(n % 7 = 0, 'video', 'image') AS content_type,
        {t0:DateTime64(3, 'UTC')} + toIntervalSecond(intDiv(n * {span_s:UInt64}, {posts:UInt64})) AS created_at,
        multiIf(n % 33 = 2, ['c', 'u', 'd'], n % 10 = 4, ['c', 'u'], ['c']) AS ops,
        [0, 86400, 172800] AS offsets
    FROM numbers({posts:UInt64})
)
ARRAY JOIN arrayEnumerate(ops) AS k;
