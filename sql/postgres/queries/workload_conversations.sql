-- Every conversation with its message counts and one member, for the workload probes to
-- pick from: the largest, the one closest to 1 000 messages (the plan's "1k conv"), and
-- random samples. listed: not deleted; visible: not deleted, not recalled.
-- Never a strict_e2e conversation: the benchmark neither writes into nor reads the content
-- of end-to-end encrypted conversations.
SELECT c.id, c.privacy_mode,
       COALESCE(k.messages, 0) AS messages,
       COALESCE(k.listed, 0) AS listed,
       COALESCE(k.visible, 0) AS visible,
       (SELECT cm.user_id FROM conversation_members AS cm
        WHERE cm.conversation_id = c.id ORDER BY cm.user_id LIMIT 1) AS member
FROM conversations AS c
LEFT JOIN (
    SELECT conversation_id,
           count(*) AS messages,
           count(*) FILTER (WHERE deleted_at IS NULL) AS listed,
           count(*) FILTER (WHERE deleted_at IS NULL AND recalled_at IS NULL) AS visible
    FROM messages
    GROUP BY conversation_id
) AS k ON k.conversation_id = c.id
WHERE c.privacy_mode <> 'strict_e2e'
ORDER BY c.id
