-- Seed: shares within three days of posting; 2% taken back.
INSERT INTO shares_cdc (post_id, user_id, created_at, op, event_ts, version)
SELECT post_id, user_id, shared_at, ops[k],
       least(shared_at + toIntervalSecond(offsets[k]), {as_of:DateTime64(3, 'UTC')}) AS event_ts,
       toUInt64(toUnixTimestamp64Milli(event_ts)) * 4 + k
FROM (
    SELECT
        number AS i,
        1 + (intDiv(intDiv(((i * 7919) % 1000003) * ((i * 2654435761) % 1000003), 1000003) * {posts:UInt64}, 1000003) * 7919 + 13) % {posts:UInt64}
            AS pn,
        toUUID(UUIDNumToString(MD5(concat('p', toString(pn))))) AS post_id,
        toUUID(UUIDNumToString(MD5(concat('u', toString((i * 40503) % {users:UInt64}))))) AS user_id,
        least({t0:DateTime64(3, 'UTC')}
                  + toIntervalSecond(intDiv(pn * {span_s:UInt64}, {posts:UInt64}) + (i * 104729) % 259200),
              {as_of:DateTime64(3, 'UTC')}) AS shared_at,
        if(i % 50 = 9, ['c', 'd'], ['c']) AS ops,
        [0, 7200] AS offsets
    FROM numbers({shares:UInt64})
)
ARRAY JOIN arrayEnumerate(ops) AS k;
