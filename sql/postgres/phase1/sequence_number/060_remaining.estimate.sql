-- How many messages still need a number (for the backfill's ETA).
SELECT count(*) FROM messages WHERE sequence_number IS NULL;
