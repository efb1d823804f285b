-- The application's schema before the plan (../shared/contract/BASELINE.md, "PostgreSQL baseline").
-- `dbopt seed` creates it on an empty database; the rollout never runs this file against
-- a database that already has the tables. Every statement is idempotent.
--
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- every table here is created empty in this same file, so nothing else holds or waits for its locks

CREATE TABLE IF NOT EXISTS conversations (
    id uuid PRIMARY KEY,
    privacy_mode text NOT NULL DEFAULT 'standard',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS conversation_members (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    role text NOT NULL DEFAULT 'member',
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE IF NOT EXISTS messages (
    id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender_id uuid NOT NULL,
    content text NOT NULL DEFAULT '',
    content_encrypted bytea,
    content_nonce bytea,
    message_type text,
    -- squawk-ignore prefer-bigint-over-int -- the contract's type; the application owns it
    version_number int NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz,
    recalled_at timestamptz,
    deleted_at timestamptz
);

-- squawk-ignore require-concurrent-index-creation -- the table was created empty just above
CREATE INDEX IF NOT EXISTS idx_messages_conversation_id ON messages (conversation_id);

CREATE TABLE IF NOT EXISTS message_reactions (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    emoji text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE IF NOT EXISTS message_attachments (
    id uuid PRIMARY KEY,
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_name text NOT NULL,
    file_type text NOT NULL,
    file_size bigint NOT NULL,
    s3_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS posts (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    caption text,
    image_key text,
    image_sizes jsonb,
    status text NOT NULL DEFAULT 'published',
    content_type text NOT NULL DEFAULT 'image',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    soft_delete timestamptz
);

-- squawk-ignore require-concurrent-index-creation -- the table was created empty just above
CREATE INDEX IF NOT EXISTS idx_posts_user_id ON posts (user_id);
