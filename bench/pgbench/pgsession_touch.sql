-- Figure 3: record an access through pgsession.
\set i random(1, :range)
SELECT session_touch('benchtoken' || lpad(:i::text, 33, '0'));
