-- Seed: messages. Sizes come from the client (Zipf plus one hot conversation); three
-- messages in a row share each created_at; strict_e2e conversations carry ciphertext
-- and empty content; some messages are edited, recalled or soft-deleted. Text is two
-- phrases picked by a multiplicative hash of the row, so it is reproducible.
-- params: ids, sizes, users, phrase_count
INSERT INTO messages (id, conversation_id, sender_id, content, content_encrypted, content_nonce,
                      message_type, version_number, created_at, updated_at, recalled_at, deleted_at)
SELECT gen_random_uuid(),
       c.id,
       md5('u' || ((c.ord * 7919 + (1 + g % c.members) * 104729) % $3))::uuid,
       CASE WHEN c.e2e THEN '' ELSE p1.phrase || ' ' || p2.phrase END,
       CASE WHEN c.e2e THEN decode(md5(c.id::text || g), 'hex') END,
       CASE WHEN c.e2e THEN substring(decode(md5(g || c.id::text), 'hex') FROM 1 FOR 12) END,
       CASE WHEN g % 20 = 3 THEN 'image' WHEN g % 50 = 9 THEN NULL ELSE 'text' END,
       CASE WHEN g % 20 = 7 THEN 2 ELSE 1 END,
       c.created_at + (g / 3) * interval '13 seconds',
       CASE WHEN g % 20 = 7 THEN c.created_at + (g / 3) * interval '13 seconds' + interval '5 minutes' END,
       CASE WHEN g % 50 = 11 THEN c.created_at + (g / 3) * interval '13 seconds' + interval '1 minute' END,
       CASE WHEN g % 33 = 5 THEN c.created_at + (g / 3) * interval '13 seconds' + interval '1 hour' END
FROM (
    SELECT s.id, s.size, s.ord, conv.created_at, conv.privacy_mode = 'strict_e2e' AS e2e,
           CASE WHEN s.ord = 1 THEN 60 ELSE 2 + (s.ord % 8)::int END AS members
    FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS s (id, size, ord)
    JOIN conversations AS conv ON conv.id = s.id
) AS c
CROSS JOIN LATERAL generate_series(1::bigint, c.size) AS g
JOIN seed_phrases AS p1 ON p1.k = (g * 2654435761 + c.ord * 40503) % $4
JOIN seed_phrases AS p2 ON p2.k = (g * 40503 + c.ord * 2654435761 + 7) % $4;
