-- The author of each listed post (the rollup check maps interactions to authors).
SELECT toString(post_id) AS post, toString(any(author_id)) AS author
FROM posts_cdc
WHERE has({ids:Array(UUID)}, post_id)
GROUP BY post_id;
