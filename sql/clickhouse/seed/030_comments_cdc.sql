-- Seed: comments within two weeks of posting; 5% edited, 3% deleted.
INSERT INTO comments_cdc (comment_id, post_id, user_id, created_at, op, event_ts, version)
SELECT comment_id, post_id, user_id, commented_at, ops[k],
       least(commented_at + toIntervalSecond(offsets[k]), {as_of:DateTime64(3, 'UTC')}) AS event_ts,
       toUInt64(toUnixTimestamp64Milli(event_ts)) * 4 + k
FROM (
    SELECT
        number AS i,
        1 + (intDiv(intDiv(((i * 40503) % 1000003) * ((i * 2654435761) % 1000003), 1000003) * {posts:UInt64}, 1000003) * 7919 + 13) % {posts:UInt64}
            AS pn,
        toUUID(UUIDNumToString(MD5(concat('m', toString(i))))) AS comment_id,
        toUUID(UUIDNumToString(MD5(concat('p', toString(pn))))) AS post_id,
        toUUID(UUIDNumToString(MD5(concat('u', toString((i * 104729) % {users:UInt64}))))) AS user_id,
        least({t0:DateTime64(3, 'UTC')}
                  + toIntervalSecond(intDiv(pn * {span_s:UInt64}, {posts:UInt64}) + (i * 7919) % 1209600),
              {as_of:DateTime64(3, 'UTC')}) AS commented_at,
        multiIf(i % 33 = 4, ['c', 'd'], i % 20 = 6, ['c', 'u'], ['c']) AS ops,
        [0, 1800] AS offsets
    FROM numbers({comments:UInt64})
)
ARRAY JOIN arrayEnumerate(ops) AS k;
