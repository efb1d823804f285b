-- Hard-link every part of one table into another with the same structure and keys.
-- No data is copied and no materialized view of the target is fed (the rows were
-- counted by the views when they were first inserted). Replicated tables replicate
-- the attach themselves, so there is no ON CLUSTER here.
ALTER TABLE {{target}} ATTACH PARTITION ALL FROM {{source}};
