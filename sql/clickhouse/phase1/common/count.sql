-- Rows in a table.
SELECT count() FROM {{table}};
