SELECT
    post_id,
    argMax(author_id, version),
    argMax(content_type, version),
    argMax(created_at, version),
    argMax(op, version),
    {boundary:DateTime64(3, 'UTC')},
    max(version)
FROM posts_cdc
GROUP BY post_id
HAVING maxIf(version, event_ts >= {boundary:DateTime64(3, 'UTC')}) < max(version)
   AND argMax(op, version) != 'd'
