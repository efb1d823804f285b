-- After the backfill: the view takes every event from now on, late ones included (an
-- event stamped before the start point that arrives now). Changing a view's query does
-- not interrupt inserts (ClickHouse 24.1 or newer).
ALTER TABLE {{view}} {{on_cluster}} MODIFY QUERY
{{select}};
