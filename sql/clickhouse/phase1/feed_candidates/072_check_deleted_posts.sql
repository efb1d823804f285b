-- Candidate posts whose latest posts_cdc row at the table's as_of is a delete.
SELECT toString(c.post_id) AS post, toString(c.author_id) AS author, c.created_at
FROM {{table}} AS c
INNER JOIN (
    SELECT post_id, toString(argMax(op, version)) AS last_op
    FROM posts_cdc
    WHERE post_id IN (SELECT post_id FROM {{table}})
      AND event_ts <= (SELECT max(as_of) FROM {{table}})
    GROUP BY post_id
) AS s ON s.post_id = c.post_id
WHERE s.last_op = 'd'
LIMIT {limit:UInt32};
