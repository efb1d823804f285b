-- partition_cleanup: drop one expired month of a table partitioned by month. A metadata
-- operation: the month's parts are removed at once, nothing is rewritten (unlike
-- ALTER TABLE ... DELETE, which rewrites every part it touches). Not reversible: the
-- events are gone (the Phase 1 backups, while kept, still hold the baseline's events).
ALTER TABLE {{table}} {{on_cluster}} DROP PARTITION ID '{{partition_id}}';
