-- postgres_plan: exact rows of the sample's tables (small: counting them is cheap).
SELECT 'conversations' AS "table", count(*) AS rows FROM /*{{scratch}}*/ dbopt_plan_scratch.conversations
UNION ALL
SELECT 'conversation_members', count(*) FROM /*{{scratch}}*/ dbopt_plan_scratch.conversation_members
UNION ALL
SELECT 'messages', count(*) FROM /*{{scratch}}*/ dbopt_plan_scratch.messages
UNION ALL
SELECT 'message_attachments', count(*) FROM /*{{scratch}}*/ dbopt_plan_scratch.message_attachments
UNION ALL
SELECT 'posts', count(*) FROM /*{{scratch}}*/ dbopt_plan_scratch.posts;
