-- Seed: reactions on about a fifth of the messages, one to three each.
-- params: users
INSERT INTO message_reactions (message_id, user_id, emoji, created_at)
SELECT m.id,
       md5('u' || (abs(hashtext(m.id::text)) + k * 31) % $1)::uuid,
       (ARRAY['👍', '❤️', '😂', '🎉', '😮', '😢'])[1 + (abs(hashtext(m.id::text || k)) % 6)],
       m.created_at + k * interval '1 minute'
FROM messages AS m
CROSS JOIN LATERAL generate_series(1, 1 + abs(hashtext(m.id::text)) % 3) AS k
WHERE abs(hashtext(m.id::text)) % 5 = 0
ON CONFLICT DO NOTHING;
