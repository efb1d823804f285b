-- postgres_plan: the sample's tables, in a scratch schema created inside the plan's one
-- transaction, which is always rolled back: nothing of it is ever committed. LIKE copies
-- each application table's columns, defaults and indexes (not its triggers or foreign keys).
-- squawk-ignore-file require-lock-timeout, require-statement-timeout, require-concurrent-index-creation, prefer-robust-stmts -- runs in the plan's transaction under SET LOCAL lock_timeout and statement_timeout; only new tables that no other session can see, rolled back
CREATE SCHEMA /*{{scratch}}*/ dbopt_plan_scratch;

CREATE TABLE /*{{scratch}}*/ dbopt_plan_scratch.conversations (LIKE conversations INCLUDING DEFAULTS INCLUDING INDEXES);

CREATE TABLE /*{{scratch}}*/ dbopt_plan_scratch.conversation_members (
    LIKE conversation_members INCLUDING DEFAULTS INCLUDING INDEXES
);

CREATE TABLE /*{{scratch}}*/ dbopt_plan_scratch.messages (LIKE messages INCLUDING DEFAULTS INCLUDING INDEXES);

CREATE TABLE /*{{scratch}}*/ dbopt_plan_scratch.message_attachments (
    LIKE message_attachments INCLUDING DEFAULTS INCLUDING INDEXES
);

CREATE TABLE /*{{scratch}}*/ dbopt_plan_scratch.posts (LIKE posts INCLUDING DEFAULTS INCLUDING INDEXES);
