-- Before old months of a table that carries current state (posts_cdc, follows_cdc) are
-- dropped: every live key whose latest row lies in those months gets a copy of that row
-- in the first retained month (same version, op and created_at; event_ts moved to the
-- boundary), so the key keeps its state. Keys whose latest row is a delete need nothing.
-- Written into a work table and attached from there: attaching parts does not feed the
-- table's materialized views, which counted the original row already. Running it twice
-- carries nothing more (the copy is then the latest row, inside the retained months).
INSERT INTO {{carry}}
{{select}};
