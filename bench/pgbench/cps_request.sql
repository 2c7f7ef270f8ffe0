-- Figure 2, second baseline: connect-pg-simple's request, which reads the session and
-- then touches it (a new expire on every request), each in autocommit.  pgbench has no
-- clock, so the new expiry is the run's start (:now) plus maxAge plus a per-request
-- offset, which keeps every UPDATE a real change of the indexed column, as in an app.
\set i random(1, :range)
\set exp :now + 3600.0 + random(0, 600000) / 1000.0
SELECT sess FROM session WHERE sid = 'benchtoken' || lpad(:i::text, 33, '0') AND expire >= to_timestamp(:now);
UPDATE session SET expire = to_timestamp(:exp) WHERE sid = 'benchtoken' || lpad(:i::text, 33, '0') RETURNING sid;
