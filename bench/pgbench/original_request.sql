-- Figure 2 baseline: the original design's request, which reads the session and then
-- records the access (last_accessed_at and a sliding expires_at), each in autocommit.
\set i random(1, :range)
SELECT * FROM sessions WHERE id = 'benchtoken' || lpad(:i::text, 33, '0') AND expires_at > NOW();
UPDATE sessions SET last_accessed_at = NOW(), expires_at = NOW() + INTERVAL '1 hour'
 WHERE id = 'benchtoken' || lpad(:i::text, 33, '0');
