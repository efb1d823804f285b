-- Undo a partial month copy before copying the month again (new table only).
ALTER TABLE {{target}} {{on_cluster}} DROP PARTITION ID '{{partition_id}}';
