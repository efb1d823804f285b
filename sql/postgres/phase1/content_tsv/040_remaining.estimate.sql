-- How many messages still need content_tsv (for the backfill's ETA).
SELECT count(*) FROM messages WHERE content_tsv IS NULL;
