-- Seed: a session-local table of short phrases that message and post text is made of.
-- A join on a computed key is far cheaper than subscripting a large text[] per row
-- (PostgreSQL walks variable-width arrays from the start on every subscript).
-- params: phrases
-- squawk-ignore require-lock-timeout, require-statement-timeout -- a new temporary table, private to this session: nobody else can wait on its locks
CREATE TEMP TABLE seed_phrases ON COMMIT PRESERVE ROWS AS
SELECT (p.ord - 1)::int AS k, p.phrase
FROM unnest($1::text[]) WITH ORDINALITY AS p (phrase, ord);

ANALYZE seed_phrases;
