-- The plan's 1.3 NEW CODE, unchanged: after the insert, read the number the trigger gave.
-- params: message_id
SELECT id, sequence_number FROM messages WHERE id = $1
