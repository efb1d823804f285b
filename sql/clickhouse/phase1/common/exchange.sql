-- Atomic swap of two tables' names; views stay with the names (unlike RENAME).
-- Impact: a metadata operation, no data moves; readers see one table or the other.
EXCHANGE TABLES {{a}} AND {{b}} {{on_cluster}};
