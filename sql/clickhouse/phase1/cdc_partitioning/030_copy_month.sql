-- Copy one month of events into the new table (one partition, a bounded insert).
INSERT INTO {{target}} ({{columns}})
SELECT {{columns}}
FROM {{source}}
WHERE toYYYYMM(event_ts) = {month:UInt32};
