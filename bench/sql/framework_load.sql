-- Figure 9: :slots framework sessions, numbers 0 to :slots - 1, into pgsession (through
-- session_save, as the store writes them) and into connect-pg-simple's table, under the
-- ids the figure-9 scripts compute: :prefix || (10^18 + number * :step + :tag).  psql
-- variables: prefix, slots, step, tag, sess (the session's JSON), idle (its maxAge as an
-- interval) and now (epoch seconds).
BEGIN;
SELECT count(session_save(:'prefix' || (1000000000000000000 + i * :step + :tag)::text,
                          :'sess', idle_timeout => :'idle'))
  FROM generate_series(0, :slots - 1) AS i;
INSERT INTO session (sid, sess, expire)
SELECT :'prefix' || (1000000000000000000 + i * :step + :tag)::text, :'sess',
       to_timestamp(:now + 86400.0)
  FROM generate_series(0, :slots - 1) AS i;
COMMIT;
