-- Months the first observation found differences in.
SELECT DISTINCT toYYYYMM({{bucket}}) FROM {{name}};
