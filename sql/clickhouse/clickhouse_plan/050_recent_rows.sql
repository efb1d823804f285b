-- Rows of a table with events in the last {days} days: what user_author_90d backfills and
-- the candidates read. Reads event_ts only.
SELECT count() FROM {{table}} WHERE event_ts >= now() - toIntervalDay({days:UInt32})
