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
SELECT plan(9);
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
-- Each batch starts where the one before stopped: the index entries of the rows earlier
-- batches deleted are not read again (they would be: with the procedure's asynchronous
-- commits they stay unmarked until the WAL is flushed).  2,000 expired sessions in
-- batches of 20 read about 2,000 entries, plus one again per batch; restarting every
-- batch at the start of the index read tens of thousands.
\o /dev/null
SELECT dblink_exec('cleaner', $$INSERT INTO pgsession.sessions (id_hash, created_at, last_accessed_at, expires_at,
                                idle_timeout, absolute_expires_at, cleanup_after)
                                SELECT sha256(convert_to('resume-' || i, 'UTF8')), now() - interval '2 hours',
                                       now() - interval '2 hours', now() - interval '1 hour' + i * interval '1 ms',
                                       interval '1 hour', now() + interval '6 hours', now() - interval '1 hour' + i * interval '1 ms'
                                  FROM generate_series(1, 2000) AS i$$);
SELECT * FROM dblink('cleaner', 'SELECT pg_stat_force_next_flush()::text') AS t(x text);
SELECT * FROM dblink('cleaner', 'SELECT 1') AS t(x int);
SELECT pg_sleep(0.2);
SELECT pg_stat_clear_snapshot();
SELECT idx_tup_read AS read_before FROM pg_stat_all_indexes WHERE indexrelname = 'sessions_cleanup_after_idx' \gset
SELECT dblink_exec('cleaner', 'CALL session_cleanup_in_batches(20)');
SELECT * FROM dblink('cleaner', 'SELECT pg_stat_force_next_flush()::text') AS t(x text);
SELECT * FROM dblink('cleaner', 'SELECT 1') AS t(x int);
SELECT pg_sleep(0.2);
SELECT pg_stat_clear_snapshot();
\o
SELECT cmp_ok((SELECT idx_tup_read FROM pg_stat_all_indexes WHERE indexrelname = 'sessions_cleanup_after_idx') - :read_before,
              '<=', 2000::bigint + 2 * 101,
              'batches resume the index scan where the batch before stopped');
-- Paced to pgsession.cleanup_wal_rate_limit: each batch after the first waits until the
-- WAL of the one before, at the limit, would have taken as long.  Three full batches of
-- 100 write at least 100 delete records of some 50 bytes (5 kB) each: at 8kB/s the run
-- waits at least 3 x 0.6 s (unpaced it takes milliseconds).
\o /dev/null
-- 300 sessions that expired an hour ago, "paced-1" to "paced-300", inserted by the cleaner.
\set insert_paced 'INSERT INTO pgsession.sessions (id_hash, created_at, last_accessed_at, expires_at, idle_timeout, absolute_expires_at, cleanup_after) SELECT sha256(convert_to(''paced-'' || i, ''UTF8'')), now() - interval ''2 hours'', now() - interval ''2 hours'', now() - interval ''1 hour'', interval ''1 hour'', now() + interval ''6 hours'', now() - interval ''1 hour'' FROM generate_series(1, 300) AS i'
SELECT dblink_exec('cleaner', :'insert_paced');
SELECT dblink_exec('cleaner', $$SET pgsession.cleanup_wal_rate_limit = '8kB'$$);
SELECT clock_timestamp() AS paced_start \gset
SELECT dblink_exec('cleaner', 'CALL session_cleanup_in_batches(100)');
SELECT extract(epoch FROM clock_timestamp() - :'paced_start'::timestamptz) AS paced_seconds \gset
-- The same pacing for batches called one by one, each its own statement: every call
-- waits for the WAL of the backend's call before (two waits of 0.6 s at least).
SELECT dblink_exec('cleaner', :'insert_paced');
SELECT clock_timestamp() AS direct_start \gset
SELECT * FROM dblink('cleaner', 'SELECT removed FROM pgsession.cleanup_batch(100)') AS t(removed bigint);
SELECT * FROM dblink('cleaner', 'SELECT removed FROM pgsession.cleanup_batch(100)') AS t(removed bigint);
SELECT * FROM dblink('cleaner', 'SELECT removed FROM pgsession.cleanup_batch(100)') AS t(removed bigint);
SELECT extract(epoch FROM clock_timestamp() - :'direct_start'::timestamptz) AS direct_seconds \gset
SELECT dblink_exec('cleaner', 'RESET pgsession.cleanup_wal_rate_limit');
\o
SELECT cmp_ok(:direct_seconds::numeric, '>=', 1.2,
              'pgsession.cleanup_batch() called statement by statement is paced as well');
SELECT cmp_ok(:paced_seconds::numeric, '>=', 1.8,
              'session_cleanup_in_batches waits for the WAL of each batch at pgsession.cleanup_wal_rate_limit');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash IN (SELECT sha256(convert_to('paced-' || i, 'UTF8')) FROM generate_series(1, 300) AS i)),
          0::bigint, 'a paced run removes every expired session all the same');
SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT dblink_exec('cleaner', $$DO 'BEGIN PERFORM session_delete(''batch-live-'' || i) FROM generate_series(10001, 10002) AS i; END'$$);
SELECT dblink_disconnect('cleaner');
\o
