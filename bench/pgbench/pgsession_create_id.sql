-- Figure 9 (c): session_create with an application-supplied new id (the ids of
-- pgsession_save.sql with :by_client 1) and the framework's session as data.
\set n 1000000000000000000 + random(0, :slots - 1) * :step + :tag + :client_id * :by_client
SELECT session_create(id => :prefix || :n, data => :sess, idle_timeout => :idle);
