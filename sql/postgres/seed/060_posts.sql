-- Seed: posts over 13 months by a skewed set of authors; some drafts, some soft-deleted.
-- Post n has id md5('p' || n), and its author and creation time use the same integer
-- arithmetic as the ClickHouse CDC seed (sql/clickhouse/seed/010_posts_cdc.sql), so both
-- sides describe the same posts.
-- params: posts, users, t0, span_s, phrase_count
INSERT INTO posts (id, user_id, caption, image_key, image_sizes, status, content_type,
                   created_at, updated_at, soft_delete)
SELECT md5('p' || n)::uuid,
       md5('u' || (((r * r / 1000003) * r / 1000003) * $2 / 1000003))::uuid,
       p.phrase,
       'posts/' || n || '.jpg',
       jsonb_build_object('thumb', 'posts/' || n || '_t.jpg', 'full', 'posts/' || n || '.jpg'),
       CASE WHEN n % 50 = 1 THEN 'draft' ELSE 'published' END,
       CASE WHEN n % 7 = 0 THEN 'video' ELSE 'image' END,
       t.created_at,
       t.created_at,
       CASE WHEN n % 33 = 2 THEN t.created_at + interval '2 days' END
FROM generate_series(1::bigint, $1) AS n
CROSS JOIN LATERAL (SELECT (n * 2654435761) % 1000003 AS r) AS h
JOIN seed_phrases AS p ON p.k = (n * 40503) % $5
CROSS JOIN LATERAL (SELECT $3::timestamptz + ((n * $4) / $1) * interval '1 second' AS created_at) AS t;
