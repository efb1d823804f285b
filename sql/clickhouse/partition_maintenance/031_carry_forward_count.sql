-- Dry run of 030: how many live keys would be carried forward.
SELECT count() FROM (
{{select}}
);
