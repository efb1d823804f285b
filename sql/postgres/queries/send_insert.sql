-- Message send, both before and after plan 1.3: the insert itself. After Phase 1 the
-- trigger set_message_sequence numbers the row; before it, the service counted first
-- (before_send_count.sql). Used by the workload benchmark, whose sends are rolled back.
-- params: id, conversation_id, sender_id, content
INSERT INTO messages (id, conversation_id, sender_id, content, message_type)
VALUES ($1, $2, $3, $4, 'text')
