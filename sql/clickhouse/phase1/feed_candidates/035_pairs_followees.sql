-- The (user, author) pairs of feed_candidates_followees: every current follow, with the
-- user's affinity for the author (0 without recent interactions).
TRUNCATE TABLE IF EXISTS {{pairs}} {{on_cluster}};

INSERT INTO {{pairs}}
SELECT f.user_id, f.author_id, a.affinity_score
FROM {{follows}} AS f
LEFT JOIN {{affinity}} AS a ON a.user_id = f.user_id AND a.author_id = f.author_id
SETTINGS join_use_nulls = 0;
