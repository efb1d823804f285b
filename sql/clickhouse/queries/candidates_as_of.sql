-- The instant the live candidate tables describe (the feed probes compute the "before"
-- answer for the same instant, so the two can be compared row by row).
SELECT max(as_of) AS as_of FROM feed_candidates_followees
