-- params: conversations_pct, messages_cap, posts_pct, attachments_pct
-- postgres_plan: copy a sample into the scratch tables (reads only: ACCESS SHARE on the
-- application's tables, which blocks no writer). Whole conversations chosen at random, with
-- their members and at most messages_cap of their messages each (the one hot conversation
-- would otherwise be the sample), and random pages of posts and attachments.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- runs in the plan's transaction under SET LOCAL lock_timeout and statement_timeout, rolled back
INSERT INTO /*{{scratch}}*/ dbopt_plan_scratch.conversations
SELECT * FROM conversations TABLESAMPLE BERNOULLI ($1::real);

INSERT INTO /*{{scratch}}*/ dbopt_plan_scratch.conversation_members
SELECT cm.* FROM conversation_members AS cm
WHERE cm.conversation_id IN (SELECT c.id FROM /*{{scratch}}*/ dbopt_plan_scratch.conversations AS c);

INSERT INTO /*{{scratch}}*/ dbopt_plan_scratch.messages
SELECT m.* FROM /*{{scratch}}*/ dbopt_plan_scratch.conversations AS c
CROSS JOIN LATERAL (SELECT * FROM messages AS x WHERE x.conversation_id = c.id LIMIT $2::int) AS m;

INSERT INTO /*{{scratch}}*/ dbopt_plan_scratch.posts
SELECT * FROM posts TABLESAMPLE SYSTEM ($3::real);

INSERT INTO /*{{scratch}}*/ dbopt_plan_scratch.message_attachments
SELECT * FROM message_attachments TABLESAMPLE SYSTEM ($4::real);
