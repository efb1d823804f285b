-- postgres_plan: what reading a backfill's batch of rows costs where those rows live (the
-- timed read of the same rows, for the backfills that walk rows without writing them): the
-- batch walks the sample's table (`table`) and reads the rows of those ids in `target` (the
-- application's table, then the sample's), as 080_rewrite.batch.sql does.
SELECT count(t.*) AS rows
FROM /*{{target}}*/ messages AS t
WHERE t.id IN (SELECT s.id FROM /*{{table}}*/ messages AS s WHERE /*{{batch}}*/ true);
