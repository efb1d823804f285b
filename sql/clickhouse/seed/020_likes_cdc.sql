-- Seed: likes, skewed towards a few popular posts (spread over time by a permutation of
-- post numbers), within a week of posting; 4% are
-- unliked an hour later, and half of those liked again the next day.
INSERT INTO likes_cdc (post_id, user_id, created_at, op, event_ts, version)
SELECT post_id, user_id, liked_at, ops[k],
       least(liked_at + toIntervalSecond(offsets[k]), {as_of:DateTime64(3, 'UTC')}) AS event_ts,
       toUInt64(toUnixTimestamp64Milli(event_ts)) * 4 + k
FROM (
    SELECT
        number AS i,
        1 + (intDiv(intDiv(((i * 2654435761) % 1000003) * ((i * 40503) % 1000003), 1000003) * {posts:UInt64}, 1000003) * 7919 + 13) % {posts:UInt64}
            AS pn,
        toUUID(UUIDNumToString(MD5(concat('p', toString(pn))))) AS post_id,
        toUUID(UUIDNumToString(MD5(concat('u', toString((i * 7919) % {users:UInt64}))))) AS user_id,
        least({t0:DateTime64(3, 'UTC')}
                  + toIntervalSecond(intDiv(pn * {span_s:UInt64}, {posts:UInt64}) + (i * 104729) % 604800),
              {as_of:DateTime64(3, 'UTC')}) AS liked_at,
        multiIf(i % 50 = 7, ['c', 'd', 'c'], i % 50 = 8, ['c', 'd'], ['c']) AS ops,
        [0, 3600, 86400] AS offsets
    FROM numbers({likes:UInt64})
)
ARRAY JOIN arrayEnumerate(ops) AS k;
