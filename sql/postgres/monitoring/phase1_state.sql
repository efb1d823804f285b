-- Which Phase 1 columns exist, and whether messages.sequence_number is NOT NULL (then no
-- message can lack a number and the sweep for NULL numbers has nothing to do).
SELECT
    EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass('conversations') AND attname = 'member_count' AND NOT attisdropped
    ) AS counter_columns,
    EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass('messages') AND attname = 'sequence_number' AND NOT attisdropped
    ) AS sequence_column,
    coalesce((
        SELECT attnotnull FROM pg_attribute
        WHERE attrelid = to_regclass('messages') AND attname = 'sequence_number' AND NOT attisdropped
    ), false) AS sequence_not_null;
