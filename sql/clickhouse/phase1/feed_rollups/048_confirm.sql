-- Second observation, after every INSERT running at the first had finished: only a
-- difference seen twice, the same, is real (an INSERT between its CDC row and its view's
-- row looks like one once); those are kept to be added to the rollup.
INSERT INTO {{into}} ({{key}}, {{measures}})
SELECT {{key}}, {{measures}}
FROM ({{diff}}) AS o2
INNER JOIN {{first}} AS o1 USING ({{key}}, {{measures}});
