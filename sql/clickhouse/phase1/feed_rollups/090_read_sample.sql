-- A rollup's rows for a sample, summed (SummingMergeTree merges only eventually).
SELECT {{key}}, {{sums}}
FROM {{table}}
WHERE has({ids:Array(UUID)}, {{id_column}}) AND {{bucket}} >= {since:DateTime64(3, 'UTC')}
GROUP BY {{key}};
