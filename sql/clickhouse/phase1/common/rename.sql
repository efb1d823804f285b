-- Rename a table no view reads from (a backup or a work table). Never used on a live
-- source table: RENAME takes its materialized views along and leaves the name unfed.
RENAME TABLE {{old}} TO {{new}} {{on_cluster}};
