-- Routine maintenance of the sessions table does not disturb a backend that has been
-- serving sessions: REINDEX CONCURRENTLY (new index OIDs) and VACUUM FULL (new files).
-- The maintenance runs from the shell (psql's \!) while this backend is idle outside a
-- transaction: REINDEX CONCURRENTLY waits for every snapshot older than its own, and a
-- statement waiting for it here would be one.
\o /dev/null
DELETE FROM pgsession.sessions WHERE id_hash = sha256('maintenance-000001');  -- an interrupted run's
SELECT session_create(id => 'maintenance-000001', nonce => 'still here') AS tok \gset
SELECT count(*) FROM session_get('maintenance-000001');
SELECT oid AS pkey_before FROM pg_class WHERE oid = 'pgsession.sessions_pkey'::regclass \gset
\o
\setenv PGHOST :HOST
\setenv PGPORT :PORT
\setenv PGUSER :USER
\setenv PGDATABASE :DBNAME
\! psql -X -q -c 'REINDEX TABLE CONCURRENTLY pgsession.sessions'
BEGIN;
SELECT plan(5);
SELECT isnt((SELECT oid FROM pg_class WHERE oid = 'pgsession.sessions_pkey'::regclass), :'pkey_before'::oid,
            'REINDEX CONCURRENTLY gave the primary key a new OID');
SELECT is((SELECT nonce FROM session_get('maintenance-000001')), 'still here',
          'session_get works in a backend that used the old index');
COMMIT;
\! psql -X -q -c 'VACUUM FULL pgsession.sessions'
BEGIN;
SELECT is((SELECT nonce FROM session_get('maintenance-000001')), 'still here', 'session_get works after VACUUM FULL');
SELECT is(session_update('maintenance-000001', nonce => 'changed'), true, 'session_update works after both');
SELECT is(session_delete('maintenance-000001'), true, 'session_delete works after both');
SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT session_delete('maintenance-000001');
\o
