-- Plan 1.3 OLD CODE (conversation_service.rs, lines 99-114), unchanged: the conversation
-- fetch with a member count and a last-message subquery.
-- params: conversation_id
SELECT
      $1::uuid AS id,
      (
        SELECT COUNT(*)::int FROM conversation_members cm WHERE cm.conversation_id = $1
      ) AS member_count,
      (
        SELECT m.id FROM messages m WHERE m.conversation_id = $1 ORDER BY m.created_at DESC LIMIT 1
      ) AS last_message_id
