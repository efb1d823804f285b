-- Catch-up: the rows of the listed months that the source holds and the target lacks, as a
-- multiset (a row written twice and copied once is copied once more), written into
-- the target or a work table. Events that arrived during the copy, and an interrupted
-- copy, end here.
-- The source filter is empty, except when restoring the baseline: then rows that
-- partition_cleanup carried forward (a key's latest row moved to the first instant of a
-- retained month, same version) are not copied back next to their original.
INSERT INTO {{into}} ({{columns}})
SELECT {{columns}}
FROM (
{{source_rows}}
) AS s
LEFT JOIN (
{{target_rows}}
) AS t USING ({{columns}})
ARRAY JOIN range(s.dbopt_n - t.dbopt_n) AS dbopt_copy
WHERE s.dbopt_n > t.dbopt_n
SETTINGS join_use_nulls = 0;
