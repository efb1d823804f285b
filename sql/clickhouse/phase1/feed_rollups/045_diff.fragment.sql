-- Per key of the listed months: what the CDC tables say minus what the rollup holds.
-- Rows with a non-zero difference only; added to a SummingMergeTree they correct it.
SELECT {{key}}, {{deltas}}
FROM (
    SELECT {{key}}, {{sums}}
    FROM ({{expected}})
    GROUP BY {{key}}
) AS e
FULL OUTER JOIN (
    SELECT {{key}}, {{sums}}
    FROM {{table}}
    WHERE has({months:Array(UInt32)}, toYYYYMM({{bucket}})) AND {{bucket}} >= {since:DateTime64(3, 'UTC')}
    GROUP BY {{key}}
) AS s USING ({{key}})
WHERE {{differs}}
SETTINGS join_use_nulls = 0
