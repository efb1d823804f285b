-- Message history before plan 2.1, query 2 of 3: the reactions of one page's messages,
-- per emoji, with whether the reading user reacted.
-- params: message_ids, user_id
SELECT message_id, emoji, COUNT(*) AS reaction_count, BOOL_OR(user_id = $2) AS user_reacted
FROM message_reactions
WHERE message_id = ANY($1::uuid[])
GROUP BY message_id, emoji
