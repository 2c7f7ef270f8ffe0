-- Figure 3 baseline: the same UPDATE of the same columns of the same table, as plain
-- SQL run by the table's owner (the digest computed in SQL, as session_touch does in C).
\set i random(1, :range)
UPDATE pgsession.sessions
   SET last_accessed_at = GREATEST(last_accessed_at, now()),
       expires_at = GREATEST(expires_at, LEAST(now() + idle_timeout, absolute_expires_at))
 WHERE id_hash = sha256(convert_to('benchtoken' || lpad(:i::text, 33, '0'), 'UTF8'))
   AND expires_at > now()
RETURNING expires_at;
