-- The contract's triggers and dbopt's own (content_tsv, moves, TRUNCATE), with whether each is enabled.
SELECT want.table_name, want.trigger_name, tg.tgenabled IS NOT NULL AS present, coalesce(tg.tgenabled <> 'D', false) AS enabled
FROM (VALUES
    ('messages', 'set_message_sequence'),
    ('messages', 'update_last_message_on_insert'),
    ('messages', 'messages_content_tsv'),
    ('conversation_members', 'update_member_count_on_add'),
    ('conversation_members', 'update_member_count_on_remove'),
    ('messages', 'set_message_sequence_on_move'),
    ('messages', 'release_message_sequence_on_move'),
    ('messages', 'reset_message_sequence_on_truncate'),
    ('messages', 'update_last_message_on_move'),
    ('messages', 'reset_last_message_on_truncate'),
    ('conversation_members', 'update_member_count_on_move'),
    ('conversation_members', 'reset_member_count_on_truncate')
) AS want (table_name, trigger_name)
LEFT JOIN pg_trigger AS tg ON tg.tgname = want.trigger_name AND tg.tgrelid = to_regclass(want.table_name)
