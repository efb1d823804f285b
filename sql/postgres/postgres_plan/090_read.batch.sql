-- postgres_plan: what reading a backfill's batch of rows costs where those rows live (the
-- timed read of the same rows, for the backfills that walk rows without writing them).
SELECT count(t.*) AS rows
FROM /*{{table}}*/ messages AS t
WHERE /*{{batch}}*/ true;
