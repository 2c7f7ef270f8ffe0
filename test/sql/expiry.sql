-- Expiry (idle and absolute), throttled access recording, HOT updates, cleanup.
BEGIN;
SELECT plan(43);

-- Sessions for the expiry checks; one sleep lets the short ones expire.
SELECT session_create(id => 'idle-expires-00001', idle_timeout => '1 second', sub => 'carol') AS idle \gset
SELECT session_create(id => 'absolute-expires-01', idle_timeout => '1 hour', absolute_timeout => '1 second') AS absolute \gset
SELECT session_create(id => 'stays-alive-000001', idle_timeout => '1 hour', sub => 'carol') AS alive \gset
SELECT session_create(id => 'touched-in-time-01', idle_timeout => '1 second') AS touched \gset
SELECT session_create(id => 'touched-in-time-02', idle_timeout => '1 second') AS touched2 \gset
\o /dev/null
SELECT session_create(idle_timeout => '1 second') FROM generate_series(1, 5);
\o
SELECT pg_sleep(0.6);
SELECT session_touch(:'absolute') AS absolute_touch \gset
SELECT ok(session_touch(:'touched') > statement_timestamp(), 'a touch before the idle timeout extends the session');
SELECT session_touch(:'touched2') AS touched2_expiry \gset
SELECT pg_sleep(0.6);

-- idle expiry
SELECT is((SELECT count(*) FROM session_get(:'idle')), 0::bigint, 'a session idle past its idle timeout is not returned');
SELECT is(session_touch(:'idle'), NULL::timestamptz, 'an idle-expired session cannot be touched back to life');
SELECT is(session_update(:'idle', nonce => 'x'), false, 'an idle-expired session is not updated');
SELECT is(session_rotate(:'idle'), NULL::text, 'an idle-expired session is not rotated');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256(convert_to(:'idle', 'UTF8'))), 1::bigint,
          'the expired session is still in the table until cleanup');
SELECT is((SELECT count(*) FROM session_list('carol')), 1::bigint, 'session_list leaves out expired sessions');

-- absolute expiry
SELECT ok(:'absolute_touch'::timestamptz <= (SELECT created_at FROM pgsession.sessions WHERE id_hash = sha256(convert_to(:'absolute', 'UTF8'))) + interval '1 second',
          'a touch never extends a session past its absolute expiry');
SELECT is((SELECT count(*) FROM session_get(:'absolute')), 0::bigint,
          'a session past its absolute timeout is not returned, however recently touched');
SELECT is(session_touch(:'absolute'), NULL::timestamptz, 'an absolutely-expired session cannot be touched');

-- live sessions
SELECT is((SELECT count(*) FROM session_get(:'alive')), 1::bigint, 'a session within both timeouts is returned');
SELECT is((SELECT count(*) FROM session_get(:'touched')), 1::bigint, 'a touched session outlives its first expiry');

-- an expired id may be taken again
SELECT is(session_create(id => :'idle', nonce => 'second life'), 'idle-expires-00001',
          'create with the id of an expired (not yet removed) session succeeds');
SELECT is((SELECT nonce FROM session_get(:'idle')), 'second life', 'and reads as the new session');
SELECT is(session_delete(:'absolute'), false, 'deleting an expired session removes it but reports it was not live');

-- cleanup
CREATE TEMP TABLE due AS
    SELECT count(*) FILTER (WHERE expires_at <= statement_timestamp()) AS expired,
           count(*) FILTER (WHERE expires_at > statement_timestamp()) AS live
    FROM pgsession.sessions;
-- Oldest cleanup_after first: the first batch of two holds only the two touched (still
-- live) sessions.  It removes nothing but counts: max_batches bounds the rows locked.
SELECT is(session_cleanup(batch_size => 2, max_batches => 1), 0::bigint,
          'session_cleanup stops after max_batches batches, even batches of live sessions only');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash IN (sha256('touched-in-time-01'), sha256('touched-in-time-02'))
             AND cleanup_after = expires_at), 2::bigint, 'that batch rescheduled the live sessions');
SELECT is(session_cleanup(batch_size => 2, max_batches => 1), 2::bigint, 'the next batch removes two expired sessions');
SELECT is(session_cleanup(batch_size => 2), (SELECT expired - 2 FROM due),
          'session_cleanup removes the remaining expired sessions in further batches');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE expires_at <= statement_timestamp()), 0::bigint,
          'no expired session is left');
SELECT is((SELECT count(*) FROM pgsession.sessions), (SELECT live FROM due), 'every live session is left');
SELECT is((SELECT count(*) FROM session_get(:'touched')), 1::bigint, 'a session touched after its first expiry survives cleanup');
SELECT is((SELECT cleanup_after = expires_at FROM pgsession.sessions WHERE id_hash = sha256(convert_to(:'touched', 'UTF8'))), true,
          'cleanup moves a touched session''s cleanup_after up to its expiry');
SELECT is(session_cleanup(), 0::bigint, 'a second cleanup finds nothing');

-- throttled access recording
SELECT session_create() AS busy \gset
SELECT pg_sleep(0.01);
SELECT is((SELECT last_accessed_at = created_at FROM session_get(:'busy')), true,
          'session_get within pgsession.touch_interval (1 minute) records nothing');
SET LOCAL pgsession.touch_interval = '1s';
SELECT is((SELECT last_accessed_at = created_at FROM session_get(:'busy')), true,
          'a shorter touch_interval still throttles');
SELECT pg_sleep(1.05);
CREATE TEMP TABLE recorded AS SELECT statement_timestamp() AS at, * FROM session_get(:'busy');
SELECT is((SELECT last_accessed_at = at FROM recorded), true,
          'session_get records the access once touch_interval has passed');
SELECT is((SELECT expires_at = at + interval '1 hour' FROM recorded), true,
          'and slides the expiry with it');
SET LOCAL pgsession.touch_interval = 0;
SELECT is((SELECT last_accessed_at = statement_timestamp() FROM session_get(:'busy')), true,
          'touch_interval = 0 records every access');

-- recording an access is a HOT update
CREATE TEMP TABLE hot_before AS
    SELECT pg_stat_get_xact_tuples_updated('pgsession.sessions'::regclass) AS updated,
           pg_stat_get_xact_tuples_hot_updated('pgsession.sessions'::regclass) AS hot;
\o /dev/null
SELECT count(*) FROM session_get(:'busy'), generate_series(1, 3);
SELECT session_touch(:'busy') FROM generate_series(1, 3);
\o
SELECT is(pg_stat_get_xact_tuples_updated('pgsession.sessions'::regclass) - (SELECT updated FROM hot_before), 4::bigint,
          'four accesses were recorded (one per session_get call, three touches)');
SELECT is(pg_stat_get_xact_tuples_hot_updated('pgsession.sessions'::regclass) - (SELECT hot FROM hot_before), 4::bigint,
          'every recorded access was a HOT update');

-- read-only transactions (as on a hot standby) only read; pgTAP's bookkeeping uses
-- temporary tables, which a read-only transaction may still write
SET LOCAL transaction_read_only = on;
SELECT pg_sleep(0.01);
SELECT is((SELECT count(*) FROM session_get(:'busy')), 1::bigint, 'session_get works in a read-only transaction');
SELECT is((SELECT last_accessed_at < statement_timestamp() FROM session_get(:'busy')), true,
          'and records nothing there');
-- the calls that write sessions say so too
SELECT throws_ok(format('SELECT session_touch(%L)', :'busy'), '25006', 'cannot write sessions in a read-only transaction',
                 'session_touch in a read-only transaction is refused, naming the call');
SELECT throws_ok(format('SELECT session_rotate(%L)', :'busy'), '25006', 'cannot write sessions in a read-only transaction',
                 'so is session_rotate');
SELECT throws_ok(format($$SELECT session_update(%L, sub => 'x')$$, :'busy'), '25006', 'cannot write sessions in a read-only transaction',
                 'and session_update');
SELECT throws_ok('SELECT session_create()', '25006', 'cannot write sessions in a read-only transaction',
                 'and session_create');
SELECT throws_ok($$SELECT session_save('read-only-save-0001', '{}')$$, '25006', 'cannot write sessions in a read-only transaction',
                 'and session_save');
-- the calls that remove sessions say so, not which statement of theirs was refused
SELECT throws_ok('SELECT session_cleanup()', '25006', 'cannot remove sessions in a read-only transaction',
                 'session_cleanup (which deletes through the table access method) is refused there too');
SELECT throws_ok($$SELECT session_delete_by_sub('nobody')$$, '25006', 'cannot remove sessions in a read-only transaction',
                 'so is session_delete_by_sub, even with nothing to remove');
SELECT throws_ok(format('SELECT session_delete(%L)', :'busy'), '25006', 'cannot remove sessions in a read-only transaction',
                 'and session_delete');
SELECT throws_ok('SELECT * FROM pgsession.cleanup_batch()', '25006', 'cannot remove sessions in a read-only transaction',
                 'and the batches of session_cleanup_in_batches');
SELECT is(session_delete('not a token'), false, 'a malformed token is still no session there, not an error');
SELECT * FROM finish();
ROLLBACK;
