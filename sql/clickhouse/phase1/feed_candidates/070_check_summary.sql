-- A candidate table at a glance: rows, its as_of, rows created after as_of, and rows
-- whose scores are not all in [0, 1].
SELECT
    count() AS rows,
    min(as_of) AS min_as_of,
    max(as_of) AS max_as_of,
    countIf(created_at > as_of) AS created_after_as_of,
    countIf(NOT (
        freshness_score BETWEEN 0 AND 1 AND engagement_score BETWEEN 0 AND 1
        AND affinity_score BETWEEN 0 AND 1 AND combined_score BETWEEN 0 AND 1
    )) AS scores_out_of_range
FROM {{table}};
