-- Seed: members, 2 to 9 per conversation and 60 in the hot one, joining over time;
-- then about 5% of members leave (the application deletes their row).
-- params: users
INSERT INTO conversation_members (conversation_id, user_id, role, joined_at)
SELECT c.id,
       md5('u' || ((c.ord * 7919 + k * 104729) % $1))::uuid,
       CASE WHEN k = 1 THEN 'owner' ELSE 'member' END,
       c.created_at + k * interval '3 hours'
FROM (SELECT id, created_at, row_number() OVER (ORDER BY created_at, id) AS ord FROM conversations) AS c
CROSS JOIN LATERAL generate_series(1, CASE WHEN c.ord = 1 THEN 60 ELSE 2 + (c.ord % 8)::int END) AS k
ON CONFLICT DO NOTHING;

DELETE FROM conversation_members
WHERE role = 'member' AND abs(hashtext(conversation_id::text || user_id::text)) % 20 = 0;
