-- Seed: impressions (no CDC: append-only), skewed towards popular posts, within three
-- days of posting.
INSERT INTO impressions (post_id, user_id, event_ts)
SELECT
    toUUID(UUIDNumToString(MD5(concat('p', toString(pn))))) AS post_id,
    toUUID(UUIDNumToString(MD5(concat('u', toString((i * 40503) % {users:UInt64}))))) AS user_id,
    least({t0:DateTime64(3, 'UTC')}
              + toIntervalSecond(intDiv(pn * {span_s:UInt64}, {posts:UInt64}) + (i * 7919) % 259200),
          {as_of:DateTime64(3, 'UTC')}) AS event_ts
FROM (
    SELECT number AS i,
           1 + (intDiv(intDiv(((i * 2654435761) % 1000003) * ((i * 104729) % 1000003), 1000003) * {posts:UInt64}, 1000003) * 7919 + 13) % {posts:UInt64}
               AS pn
    FROM numbers({impressions:UInt64})
);
