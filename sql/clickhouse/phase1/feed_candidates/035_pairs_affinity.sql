-- The (user, author) pairs of feed_candidates_affinity: authors a user interacted with in
-- the last affinity_days but does not follow (followed authors are in followees).
TRUNCATE TABLE IF EXISTS {{pairs}} {{on_cluster}};

INSERT INTO {{pairs}}
SELECT a.user_id, a.author_id, a.affinity_score
FROM {{affinity}} AS a
LEFT ANTI JOIN {{follows}} AS f ON f.user_id = a.user_id AND f.author_id = a.author_id;
