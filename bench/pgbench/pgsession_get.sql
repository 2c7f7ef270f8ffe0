-- Figures 1, 2 and 5: one request's session read through pgsession.
\set i random(1, :range)
SELECT * FROM session_get('benchtoken' || lpad(:i::text, 33, '0'));
