-- postgres_plan: what rewriting a backfill's batch of rows costs where those rows live. A
-- sample in a few small tables cannot show it (they stay in shared buffers; the real table's
-- batches touch pages all over it, each first touch after a checkpoint writing a full-page
-- image), so the plan runs this neutral rewrite (id = id: no value changes) on the same rows
-- in the application's table and in its sample: the batch walks the sample's table by the
-- backfill's key (`table`) and rewrites the rows of those ids in `target` (the application's
-- table, then the sample's), so the walk costs the same in both and the difference is where
-- the rows live. (Walking the application's table itself would time its walk without the index
-- the job builds before the backfill.) Each batch runs in its own savepoint that is rolled
-- back, so its row locks last one small batch; rows another session has locked are skipped,
-- never waited for.
-- squawk-ignore-file require-lock-timeout, require-statement-timeout -- runs in the plan's transaction under SET LOCAL lock_timeout and statement_timeout, each batch rolled back
UPDATE /*{{target}}*/ messages SET id = id
WHERE id IN (
    SELECT t.id FROM /*{{target}}*/ messages AS t
    WHERE t.id IN (SELECT s.id FROM /*{{table}}*/ messages AS s WHERE /*{{batch}}*/ true)
    FOR NO KEY UPDATE SKIP LOCKED
);
