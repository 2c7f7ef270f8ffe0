-- session_get is a read: it never fails and never waits because of another writer,
-- whatever the isolation level; the cleanup neither.  Racers are dblink connections
-- (their work commits); this file's transaction referees.
\o /dev/null
DELETE FROM pgsession.sessions
WHERE id_hash IN (sha256('never-wait-rr-0001'), sha256('never-wait-ser-001'), sha256('never-wait-lock-01'),
                  sha256('never-wait-clean-1'), sha256('never-wait-clean-2'));
\o
BEGIN;
SELECT plan(20);
SET LOCAL client_min_messages = warning;

\o /dev/null
SELECT dblink_connect(name, format('host=127.0.0.1 port=%s dbname=%s user=%s application_name=%s',
                                   current_setting('port'), current_database(), current_user, name))
FROM unnest(ARRAY['reader', 'writer']) AS name;
-- Every access is due for the reader; nothing may take it 5 seconds.
SELECT dblink_exec('reader', 'SET pgsession.touch_interval = 0');
SELECT dblink_exec(name, 'SET statement_timeout = ''5s''') FROM unnest(ARRAY['reader', 'writer']) AS name;
SELECT * FROM dblink('writer', $$SELECT count(session_create(id => i, nonce => 'before'))
    FROM unnest(ARRAY['never-wait-rr-0001', 'never-wait-ser-001', 'never-wait-lock-01']) AS i$$) AS r(n bigint);
\o

-- Runs a query on the reader and returns its error message ('' when none).
CREATE FUNCTION pg_temp.reader_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_send_query('reader', query);
    PERFORM * FROM dblink_get_result('reader', false) AS r(t text);
    PERFORM * FROM dblink_get_result('reader', false) AS r(t text);
    RETURN coalesce(nullif(dblink_error_message('reader'), 'OK'), '');
END $$;

-- REPEATABLE READ: the writer records an access after the reader's snapshot was taken.
\o /dev/null
SELECT dblink_exec('reader', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('reader', 'SELECT 1') AS r(i int);   -- takes the snapshot
SELECT * FROM dblink('writer', $$SELECT session_update('never-wait-rr-0001', nonce => 'after')$$) AS r(b boolean);
\o
SELECT is(pg_temp.reader_error($$SELECT nonce FROM session_get('never-wait-rr-0001')$$), '',
          'REPEATABLE READ: session_get of a row updated since the snapshot does not raise 40001');
SELECT is((SELECT t FROM dblink('reader', $$SELECT nonce FROM session_get('never-wait-rr-0001')$$) AS r(t text)), 'before',
          'REPEATABLE READ: it returns the row as the snapshot sees it');
SELECT is(pg_temp.reader_error($$SELECT session_cleanup()$$), '',
          'REPEATABLE READ: session_cleanup beside it does not raise 40001 either');
SELECT is((SELECT t FROM dblink('reader', 'COMMIT') AS r(t text)), 'COMMIT', 'and the transaction commits');

-- SERIALIZABLE: the same.
\o /dev/null
SELECT dblink_exec('reader', 'BEGIN ISOLATION LEVEL SERIALIZABLE');
SELECT * FROM dblink('reader', 'SELECT 1') AS r(i int);
SELECT * FROM dblink('writer', $$SELECT session_touch('never-wait-ser-001')$$) AS r(t timestamptz);
\o
SELECT is(pg_temp.reader_error($$SELECT nonce FROM session_get('never-wait-ser-001')$$), '',
          'SERIALIZABLE: session_get of a row touched since the snapshot does not raise 40001');
SELECT is((SELECT t FROM dblink('reader', 'COMMIT') AS r(t text)), 'COMMIT', 'SERIALIZABLE: the reader commits');

-- READ COMMITTED: the writer holds the row (an update not yet committed).
\o /dev/null
SELECT dblink_exec('writer', 'BEGIN');
SELECT * FROM dblink('writer', $$SELECT session_update('never-wait-lock-01', nonce => 'uncommitted')$$) AS r(b boolean);
SELECT dblink_exec('reader', 'SET lock_timeout = ''200ms''');
\o
CREATE TEMP TABLE timed AS SELECT clock_timestamp() AS started;
SELECT is(pg_temp.reader_error($$SELECT nonce FROM session_get('never-wait-lock-01')$$), '',
          'READ COMMITTED: session_get of a row another transaction holds does not fail on lock_timeout');
SELECT ok(clock_timestamp() - (SELECT started FROM timed) < interval '150 ms',
          'READ COMMITTED: and does not wait for it');
SELECT is((SELECT t FROM dblink('reader', $$SELECT nonce FROM session_get('never-wait-lock-01')$$) AS r(t text)), 'before',
          'READ COMMITTED: it returns the committed row');
SELECT is((SELECT t FROM dblink('reader', $$SELECT last_accessed_at = created_at FROM session_get('never-wait-lock-01')$$) AS r(t text)), 't',
          'READ COMMITTED: and leaves the access unrecorded (the writer is writing the row right now)');
SELECT matches(pg_temp.reader_error($$SELECT session_touch('never-wait-lock-01')$$), 'lock timeout',
          'session_touch is a write: it waits for the row, as documented');
\o /dev/null
SELECT dblink_exec('writer', 'COMMIT');
\o
SELECT is((SELECT t FROM dblink('reader', $$SELECT nonce FROM session_get('never-wait-lock-01')$$) AS r(t text)), 'uncommitted',
          'once the writer commits, session_get sees its change');
SELECT is((SELECT t FROM dblink('reader', $$SELECT last_accessed_at > created_at FROM session_get('never-wait-lock-01')$$) AS r(t text)), 't',
          'and records the access again');

-- The cleanup under REPEATABLE READ, beside a request that records an access to a due
-- session after the cleanup's snapshot: no 40001, and the session is not removed.
\o /dev/null
SELECT * FROM dblink('writer', $$SELECT session_create(id => 'never-wait-clean-1', idle_timeout => '1 second')$$) AS r(t text);
SELECT * FROM dblink('writer', $$SELECT session_create(id => 'never-wait-clean-2', idle_timeout => '1 second')$$) AS r(t text);
SELECT pg_sleep(0.6);
SELECT * FROM dblink('writer', $$SELECT session_touch('never-wait-clean-1')$$) AS r(t timestamptz);
SELECT * FROM dblink('writer', $$SELECT session_touch('never-wait-clean-2')$$) AS r(t timestamptz);
-- cleanup_after (creation + 1 s) has passed; the sessions live until 0.6 + 1 s.
SELECT pg_sleep(0.5);
SELECT dblink_exec('reader', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('reader', 'SELECT 1') AS r(i int);
SELECT * FROM dblink('writer', $$SELECT session_touch('never-wait-clean-1')$$) AS r(t timestamptz);
SELECT * FROM dblink('writer', $$SELECT session_touch('never-wait-clean-2')$$) AS r(t timestamptz);
-- By now the versions the reader's snapshot sees have expired; the newest have not.
SELECT pg_sleep(0.6);
\o
SELECT is(pg_temp.reader_error($$SELECT session_cleanup()$$), '',
          'REPEATABLE READ: session_cleanup of due sessions touched since its snapshot does not raise 40001');
SELECT is((SELECT t FROM dblink('reader', 'COMMIT') AS r(t text)), 'COMMIT', 'the cleanup commits');
-- (The referee reads the table: its own session_get would record an access, and hold the
-- row until its transaction ends.)
CREATE FUNCTION pg_temp.live(id text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256(convert_to(id, 'UTF8')) AND expires_at > now()
$$;
SELECT is(pg_temp.live('never-wait-clean-1') + pg_temp.live('never-wait-clean-2'), 2::bigint,
          'neither touched session was removed');
\o /dev/null
SELECT dblink_exec('reader', 'BEGIN ISOLATION LEVEL SERIALIZABLE');
SELECT * FROM dblink('reader', 'SELECT 1') AS r(i int);
SELECT * FROM dblink('writer', $$SELECT session_touch('never-wait-clean-1')$$) AS r(t timestamptz);
\o
SELECT is(pg_temp.reader_error($$SELECT session_cleanup()$$), '',
          'SERIALIZABLE: session_cleanup does not raise 40001 either');
SELECT is((SELECT t FROM dblink('reader', 'COMMIT') AS r(t text)), 'COMMIT', 'SERIALIZABLE: the cleanup commits');
SELECT is(pg_temp.live('never-wait-clean-1'), 1::bigint, 'the touched session is still there');

SELECT is((SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('reader', 'writer') AND wait_event_type = 'Lock'), 0::bigint,
          'nobody is left waiting on a lock');
\o /dev/null
SELECT dblink_disconnect('reader'), dblink_disconnect('writer');
\o
SELECT * FROM finish();
ROLLBACK;

\o /dev/null
DELETE FROM pgsession.sessions
WHERE id_hash IN (sha256('never-wait-rr-0001'), sha256('never-wait-ser-001'), sha256('never-wait-lock-01'),
                  sha256('never-wait-clean-1'), sha256('never-wait-clean-2'));
\o
