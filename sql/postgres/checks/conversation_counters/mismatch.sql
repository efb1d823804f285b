-- Check: member_count and the last message equal a recount, for the conversations of the
-- check's scope (pipelines/check_scope.py): the id ranges this run's backfill wrote, in
-- full, and a random sample of the rest. Runs in one snapshot, so it is exact even while
-- writers are busy.
WITH scoped AS (
    SELECT id FROM conversations WHERE /*{{changed}}*/ true
    UNION ALL
    SELECT id FROM conversations WHERE /*{{sampled}}*/ false
)
SELECT c.id AS conversation_id, c.member_count, fresh.members, c.last_message_id, fresh.last_id
FROM conversations AS c
JOIN scoped AS s ON s.id = c.id
CROSS JOIN LATERAL (
    SELECT
        (SELECT count(*) FROM conversation_members AS cm WHERE cm.conversation_id = c.id) AS members,
        (SELECT m.id FROM messages AS m WHERE m.conversation_id = c.id
         ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_id,
        (SELECT m.created_at FROM messages AS m WHERE m.conversation_id = c.id
         ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_at
) AS fresh
WHERE (c.member_count, c.last_message_id, c.last_message_at) IS DISTINCT FROM (fresh.members, fresh.last_id, fresh.last_at)
