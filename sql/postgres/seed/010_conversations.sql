-- Seed: conversations, started across the last year; every tenth is strict_e2e.
-- params: ids, t0, conv_span_s
INSERT INTO conversations (id, privacy_mode, created_at, updated_at)
SELECT c.id,
       CASE WHEN c.ord % 10 = 0 THEN 'strict_e2e' ELSE 'standard' END,
       $2::timestamptz + ((c.ord * $3) / cardinality($1::uuid[])) * interval '1 second',
       $2::timestamptz + ((c.ord * $3) / cardinality($1::uuid[])) * interval '1 second'
FROM unnest($1::uuid[]) WITH ORDINALITY AS c (id, ord);
