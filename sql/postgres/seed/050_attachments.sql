-- Seed: attachments on image messages (about 5% of the messages).
INSERT INTO message_attachments (id, message_id, file_name, file_type, file_size, s3_key, created_at)
SELECT gen_random_uuid(), m.id, 'photo-' || left(m.id::text, 8) || '.jpg', 'image/jpeg',
       20000 + abs(hashtext(m.id::text)) % 4000000,
       'attachments/' || m.conversation_id || '/' || m.id || '.jpg', m.created_at
FROM messages AS m
WHERE m.message_type = 'image';
