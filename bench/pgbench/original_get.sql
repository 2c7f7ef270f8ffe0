-- Figure 1 baseline: the original design's read, by primary key with the expiry check.
\set i random(1, :range)
SELECT * FROM sessions WHERE id = 'benchtoken' || lpad(:i::text, 33, '0') AND expires_at > NOW();
