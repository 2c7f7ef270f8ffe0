-- Two sessions racing on the same id: create/create, rotate/rotate, delete/rotate,
-- delete/delete, and cleanup beside a touch that holds the row.  The racers are two
-- dblink connections (their work commits); this file's own transaction referees.
\o /dev/null
-- Leftovers of an interrupted earlier run would make the creates below fail.
DELETE FROM pgsession.sessions
WHERE id_hash IN (sha256('race-create-00001'), sha256('race-create-00002'), sha256('race-touch-000001'),
                  sha256('race-delete-000001'));
\o
BEGIN;
SELECT plan(21);
SET LOCAL client_min_messages = warning;

\o /dev/null
SELECT dblink_connect(name, format('host=127.0.0.1 port=%s dbname=%s user=%s application_name=%s',
                                   current_setting('port'), current_database(), current_user, name))
FROM unnest(ARRAY['racer_a', 'racer_b']) AS name;
\o /dev/null
SELECT dblink_exec(name, 'SET statement_timeout = ''5s''') FROM unnest(ARRAY['racer_a', 'racer_b']) AS name;
\o
\o

-- Waits until a racer's query is blocked on a lock (so the race really happened).
CREATE FUNCTION pg_temp.wait_until_blocked(racer text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..200 LOOP
        IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = racer AND wait_event_type = 'Lock') THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN false;
END $$;

-- create vs create: the second waits for the first, then gets unique_violation
\o /dev/null
SELECT dblink_exec('racer_a', 'BEGIN');
\o
SELECT is((SELECT t FROM dblink('racer_a', $$SELECT session_create(id => 'race-create-00001', nonce => 'a')$$) AS r(t text)),
          'race-create-00001', 'racer A creates the id inside an open transaction');
\o /dev/null
SELECT dblink_send_query('racer_b', $$SELECT session_create(id => 'race-create-00001', nonce => 'b')$$);
\o
SELECT ok(pg_temp.wait_until_blocked('racer_b'), 'racer B''s create of the same id waits for A');
\o /dev/null
SELECT dblink_exec('racer_a', 'COMMIT');
\o
SELECT is((SELECT count(*) FROM dblink_get_result('racer_b', false) AS r(t text)), 0::bigint, 'racer B gets no token');
SELECT matches(dblink_error_message('racer_b'), '^ERROR:  a live session with this id already exists',
          'racer B gets unique_violation once A commits');
SELECT is((SELECT nonce FROM session_get('race-create-00001')), 'a', 'A''s session is intact');
\o /dev/null
SELECT count(*) AS drained FROM dblink_get_result('racer_b', false) AS r(t text);
\o

-- create vs create, where the first rolls back: the second succeeds
\o /dev/null
SELECT dblink_exec('racer_a', 'BEGIN');
\o
\o /dev/null
SELECT count(*) AS created FROM dblink('racer_a', $$SELECT session_create(id => 'race-create-00002', nonce => 'a')$$) AS r(t text);
\o
\o /dev/null
SELECT dblink_send_query('racer_b', $$SELECT session_create(id => 'race-create-00002', nonce => 'b')$$);
\o
SELECT ok(pg_temp.wait_until_blocked('racer_b'), 'racer B waits for A again');
\o /dev/null
SELECT dblink_exec('racer_a', 'ROLLBACK');
\o
SELECT is((SELECT t FROM dblink_get_result('racer_b') AS r(t text)), 'race-create-00002',
          'when A rolls back, B''s create succeeds');
\o /dev/null
SELECT count(*) AS drained FROM dblink_get_result('racer_b', false) AS r(t text);
\o
SELECT is((SELECT nonce FROM session_get('race-create-00002')), 'b', 'and the session is B''s');

-- rotate vs rotate: exactly one new token, the loser gets NULL
\o /dev/null
SELECT dblink_exec('racer_a', 'BEGIN');
\o
SELECT t AS token_a FROM dblink('racer_a', $$SELECT session_rotate('race-create-00001')$$) AS r(t text) \gset
\o /dev/null
SELECT dblink_send_query('racer_b', $$SELECT session_rotate('race-create-00001')$$);
\o
SELECT ok(pg_temp.wait_until_blocked('racer_b'), 'racer B''s rotate waits for A''s');
\o /dev/null
SELECT dblink_exec('racer_a', 'COMMIT');
\o
SELECT is((SELECT t FROM dblink_get_result('racer_b') AS r(t text)), NULL, 'the second rotation finds no session and returns NULL');
\o /dev/null
SELECT count(*) AS drained FROM dblink_get_result('racer_b', false) AS r(t text);
\o
SELECT is((SELECT nonce FROM session_get(:'token_a')), 'a', 'the winner''s token reaches the session');
SELECT is((SELECT count(*) FROM session_get('race-create-00001')), 0::bigint, 'the old token is dead');

-- delete vs rotate: the rotation loses
\o /dev/null
SELECT dblink_exec('racer_a', 'BEGIN');
\o
\o /dev/null
SELECT count(*) AS deleted FROM dblink('racer_a', format('SELECT session_delete(%L)', :'token_a')) AS r(t text);
\o
\o /dev/null
SELECT dblink_send_query('racer_b', format('SELECT session_rotate(%L)', :'token_a'));
\o
SELECT ok(pg_temp.wait_until_blocked('racer_b'), 'racer B''s rotate waits for A''s delete');
\o /dev/null
SELECT dblink_exec('racer_a', 'COMMIT');
\o
SELECT is((SELECT t FROM dblink_get_result('racer_b') AS r(t text)), NULL, 'a rotation racing a delete returns NULL');
\o /dev/null
SELECT count(*) AS drained FROM dblink_get_result('racer_b', false) AS r(t text);
\o

-- delete vs update: the delete waits for the update, then removes the updated row
\o /dev/null
SELECT count(*) AS created FROM dblink('racer_a', $$SELECT session_create(id => 'race-delete-000001')$$) AS r(t text);
SELECT dblink_exec('racer_a', 'BEGIN');
SELECT count(*) AS updated FROM dblink('racer_a', $$SELECT session_update('race-delete-000001', nonce => 'a')$$) AS r(b boolean);
SELECT dblink_send_query('racer_b', $$SELECT session_delete('race-delete-000001')$$);
\o
SELECT ok(pg_temp.wait_until_blocked('racer_b'), 'racer B''s delete waits for A''s update');
\o /dev/null
SELECT dblink_exec('racer_a', 'COMMIT');
\o
SELECT is((SELECT b FROM dblink_get_result('racer_b') AS r(b boolean)), true,
          'once A commits, the delete removes the updated (newer) row and reports it live');
\o /dev/null
SELECT count(*) AS drained FROM dblink_get_result('racer_b', false) AS r(b boolean);
\o
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256('race-delete-000001')), 0::bigint,
          'no version of it is left');

-- cleanup beside a touch holding the row: it neither waits nor removes the session
\o /dev/null
SELECT count(*) AS created FROM dblink('racer_a', $$SELECT session_create(id => 'race-touch-000001', idle_timeout => '1 second')$$) AS r(t text);
\o
\o /dev/null
SELECT pg_sleep(0.5);
\o
\o /dev/null
SELECT dblink_exec('racer_a', 'BEGIN');
\o
\o /dev/null
SELECT count(*) AS touched FROM dblink('racer_a', $$SELECT session_touch('race-touch-000001')$$) AS r(t text);
\o
\o /dev/null
SELECT pg_sleep(0.7);
\o
SELECT lives_ok($$SELECT * FROM dblink('racer_b', 'SELECT session_cleanup()') AS r(n bigint)$$,
                'session_cleanup does not wait for a row a touch holds (it would time out after 5 s)');
\o /dev/null
SELECT dblink_exec('racer_a', 'COMMIT');
\o
SELECT is((SELECT count(*) FROM session_get('race-touch-000001')), 1::bigint, 'the touched session survives');
SELECT is((SELECT n FROM dblink('racer_b', 'SELECT session_cleanup()') AS r(n bigint)), 0::bigint,
          'a later cleanup sees the extended expiry and leaves it too');

SELECT is((SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'racer_%' AND wait_event_type = 'Lock'), 0::bigint,
          'no racer is left waiting on a lock');
\o /dev/null
SELECT dblink_disconnect('racer_a'), dblink_disconnect('racer_b');
\o

SELECT * FROM finish();
ROLLBACK;

-- The racers committed; remove what they left.
\o /dev/null
DELETE FROM pgsession.sessions WHERE id_hash IN (sha256('race-create-00002'), sha256('race-touch-000001'));
\o
