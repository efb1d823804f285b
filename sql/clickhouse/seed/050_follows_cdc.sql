-- Seed: follows over the last four years (about a quarter older than three years, which
-- partition retention must never drop while they are live); 10% unfollowed later.
-- Authors with many posts are followed more often.
INSERT INTO follows_cdc (follower_id, followee_id, created_at, op, event_ts, version)
SELECT follower_id, followee_id, followed_at, ops[k],
       least(followed_at + toIntervalSecond(offsets[k]), {as_of:DateTime64(3, 'UTC')}) AS event_ts,
       toUInt64(toUnixTimestamp64Milli(event_ts)) * 4 + k
FROM (
    SELECT
        number AS i,
        (i * 2654435761) % 1000003 AS r,
        toUUID(UUIDNumToString(MD5(concat('u', toString((i * 7919 + intDiv(i, 97)) % {users:UInt64}))))) AS follower_id,
        toUUID(UUIDNumToString(MD5(concat('u', toString(
            intDiv(intDiv(intDiv(r * r, 1000003) * r, 1000003) * {users:UInt64}, 1000003)))))) AS followee_id,
        {as_of:DateTime64(3, 'UTC')} - toIntervalSecond((i * 104729) % (4 * 365 * 86400)) AS followed_at,
        if(i % 10 = 3, ['c', 'd'], ['c']) AS ops,
        [0, 30 * 86400] AS offsets
    FROM numbers({follows:UInt64})
    WHERE follower_id != followee_id
)
ARRAY JOIN arrayEnumerate(ops) AS k;
