-- Figure 9 (a, b) baseline: connect-pg-simple's set() with the ids of
-- pgsession_save.sql.  Its statement is "... SELECT $1, to_timestamp($2), $3 ON CONFLICT
-- (sid) DO UPDATE SET sess=$1, expire=to_timestamp($2) RETURNING sid"; pgbench binds
-- every :variable as a parameter of its own, so the update takes the same values
-- through EXCLUDED instead (node-postgres converts $1 and $2 once; so does this).
-- The expiry is the run's start (:now) plus maxAge and a per-save offset, so that an
-- existing session's indexed expire changes, as it does when express-session saves it
-- again.
\set n 1000000000000000000 + random(0, :slots - 1) * :step + :tag + :client_id * :by_client
\set exp :now + 86400.0 + random(0, 600000) / 1000.0
INSERT INTO session (sess, expire, sid) SELECT :sess, to_timestamp(:exp), :prefix || :n ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire RETURNING sid;
