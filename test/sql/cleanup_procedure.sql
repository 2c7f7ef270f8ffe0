-- session_cleanup_in_batches commits after every batch, so it must run outside a
-- transaction block: it is called here over a dblink connection in autocommit mode.
\o /dev/null
SELECT dblink_connect('cleaner', format('host=127.0.0.1 port=%s dbname=%s user=%s',
                                        current_setting('port'), current_database(), current_user));
-- Two sessions that stay live, then five that expire, committed so that the procedure
-- sees them.  All seven fall due for cleanup at once, the live two first: with batches
-- of two, the first batch removes nothing, and the procedure must go on all the same.
SELECT dblink_exec('cleaner', $$DO 'BEGIN PERFORM session_create(id => ''batch-live-'' || i, idle_timeout => ''1 second'')
                                        FROM generate_series(10001, 10002) AS i; END'$$);
SELECT dblink_exec('cleaner', $$DO 'BEGIN PERFORM session_create(id => ''batch-expiry-'' || lpad(i::text, 5, ''0''),
                                                                    idle_timeout => ''1 second'')
                                        FROM generate_series(1, 5) AS i; END'$$);
SELECT pg_sleep(0.5);
SELECT dblink_exec('cleaner', $$DO 'BEGIN PERFORM session_touch(''batch-live-'' || i) FROM generate_series(10001, 10002) AS i; END'$$);
SELECT pg_sleep(0.6);
\o
BEGIN;
SELECT plan(5);
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash IN (SELECT sha256(convert_to('batch-expiry-' || lpad(i::text, 5, '0'), 'UTF8')) FROM generate_series(1, 5) AS i)),
          5::bigint, 'five expired sessions wait for cleanup');
SELECT throws_ok($$CALL session_cleanup_in_batches(2)$$, '2D000', NULL,
                 'session_cleanup_in_batches refuses to run inside a transaction block');
SELECT is(dblink_exec('cleaner', 'CALL session_cleanup_in_batches(2)'), 'CALL',
          'session_cleanup_in_batches runs in autocommit mode');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE expires_at <= statement_timestamp()), 0::bigint,
          'it removed every expired session, two per transaction, past a batch of live ones');
SELECT is((SELECT count(*) FROM session_get('batch-live-10001')) + (SELECT count(*) FROM session_get('batch-live-10002')),
          2::bigint, 'the live sessions are still there');
SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT dblink_exec('cleaner', $$DO 'BEGIN PERFORM session_delete(''batch-live-'' || i) FROM generate_series(10001, 10002) AS i; END'$$);
SELECT dblink_disconnect('cleaner');
\o
