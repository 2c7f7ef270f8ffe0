-- Figure 9 (c) baseline: a plain INSERT of a new session into connect-pg-simple's table.
\set n 1000000000000000000 + random(0, :slots - 1) * :step + :tag + :client_id * :by_client
\set exp :now + 86400.0 + random(0, 600000) / 1000.0
INSERT INTO session (sess, expire, sid) VALUES (:sess, to_timestamp(:exp), :prefix || :n);
