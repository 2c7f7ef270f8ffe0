-- An application role can use sessions through the functions but cannot read or write
-- the table; the administrative functions need an explicit grant.
BEGIN;
SELECT plan(34);

CREATE ROLE pgsession_test_app NOLOGIN;
-- pgTAP keeps its bookkeeping in temporary tables of ours; let the role write them.
GRANT ALL ON __tcache__, __tcache___id_seq, __tresults___numb_seq TO pgsession_test_app;

-- what the install script set up
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
           JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid
           WHERE e.extname = 'pgsession' AND p.prosecdef
             AND p.proname NOT IN ('session_create', 'session_save', 'session_get', 'session_touch',
                                   'session_update', 'session_delete', 'session_rotate')
             AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']),
          NULL::text[], 'every SECURITY DEFINER function but the per-request ones (which pin name lookup in the library) has a SET search_path clause');
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname::text) FROM pg_proc p
           JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid
           WHERE e.extname = 'pgsession' AND p.prosecdef AND p.proconfig IS NULL),
          ARRAY['session_create', 'session_delete', 'session_get', 'session_rotate', 'session_save', 'session_touch', 'session_update'],
          'the per-request functions, all in C, have no SET clause (see search_path.sql)');
SELECT is((SELECT count(*) FROM pg_proc p
           JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           JOIN pg_extension e ON e.oid = d.refobjid
           WHERE e.extname = 'pgsession' AND p.proconfig IS NULL AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
             AND p.prosecdef), 0::bigint, 'every SECURITY DEFINER function in SQL or PL/pgSQL has the clause');
SELECT is((SELECT array_agg(p ORDER BY 1) FROM unnest(ARRAY['session_create', 'session_get', 'session_touch',
                  'session_update', 'session_delete', 'session_rotate', 'session_list', 'session_delete_by_sub',
                  'session_cleanup', 'session_save']) AS p
           WHERE NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = p AND prosecdef)),
          NULL::text[], 'the session functions are SECURITY DEFINER');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'session_get(text)'::regprocedure), true,
          'session_get is SECURITY DEFINER (it pins search_path in the library; see search_path.sql)');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'session_cleanup_in_batches(integer)'::regprocedure),
          false, 'the cleanup procedure (which must commit) runs as its caller');
SELECT ok(NOT has_table_privilege('public', 'pgsession.sessions', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),
          'PUBLIC has no privilege on the sessions table');
SELECT ok(has_function_privilege('public', 'session_create(text, text, text, text, text, text, jsonb, interval, interval, text, inet)', 'EXECUTE')
          AND has_function_privilege('public', 'session_get(text)', 'EXECUTE')
          AND has_function_privilege('public', 'session_touch(text)', 'EXECUTE')
          AND has_function_privilege('public', 'session_update(text, text, text, text, text, text, jsonb, text[], interval, interval, text, inet)', 'EXECUTE')
          AND has_function_privilege('public', 'session_save(text, jsonb, text, interval, interval, text, text, text, text, text, inet)', 'EXECUTE')
          AND has_function_privilege('public', 'session_delete(text)', 'EXECUTE')
          AND has_function_privilege('public', 'session_rotate(text)', 'EXECUTE'),
          'the per-session functions are executable by every role');
SELECT ok(NOT has_function_privilege('public', 'session_cleanup(integer, integer)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'session_list(text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'session_delete_by_sub(text, text)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'session_delete_by_handle(text, uuid)', 'EXECUTE'),
          'the administrative functions are not executable by PUBLIC');
SELECT ok(NOT has_function_privilege('public', 'session_cleanup_in_batches(integer)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'pgsession.cleanup_batch(integer)', 'EXECUTE'),
          'nor are the cleanup procedure and its batch function');

SET ROLE pgsession_test_app;

-- an application role uses sessions
SELECT session_create(nonce => 'app nonce', sub => 'dave') AS tok \gset
SELECT is((SELECT nonce FROM session_get(:'tok')), 'app nonce', 'an application role creates and reads a session');
SELECT ok(session_touch(:'tok') IS NOT NULL, 'an application role touches a session');
SELECT is(session_update(:'tok', access_token => 'at'), true, 'an application role updates a session');
SELECT session_rotate(:'tok') AS tok2 \gset
SELECT is((SELECT access_token FROM session_get(:'tok2')), 'at', 'an application role rotates a session');
SELECT is(session_delete(:'tok2'), true, 'an application role deletes a session');

-- but cannot reach the table
SELECT throws_ok($$SELECT * FROM pgsession.sessions$$, '42501', NULL, 'an application role cannot SELECT the table');
SELECT throws_ok($$SELECT count(*) FROM pgsession.sessions$$, '42501', NULL, 'nor count its rows');
SELECT throws_ok($$INSERT INTO pgsession.sessions (id_hash, created_at, last_accessed_at, expires_at, idle_timeout, cleanup_after)
                   VALUES (sha256('x'), now(), now(), now() + interval '1 day', interval '1 day', now())$$,
                 '42501', NULL, 'nor INSERT into it');
SELECT throws_ok($$UPDATE pgsession.sessions SET expires_at = 'infinity'$$, '42501', NULL, 'nor UPDATE it');
SELECT throws_ok($$DELETE FROM pgsession.sessions$$, '42501', NULL, 'nor DELETE from it');
SELECT throws_ok($$TRUNCATE pgsession.sessions$$, '42501', NULL, 'nor TRUNCATE it');
SELECT throws_ok($$CREATE TABLE pgsession.planted (x int)$$, '42501', NULL, 'nor create objects in the pgsession schema');

-- nor run the administrative functions without a grant
SELECT throws_ok($$SELECT session_cleanup()$$, '42501', NULL, 'session_cleanup needs a grant');
SELECT throws_ok($$SELECT * FROM session_list('dave')$$, '42501', NULL, 'session_list needs a grant');
SELECT throws_ok($$SELECT session_delete_by_sub('dave')$$, '42501', NULL, 'session_delete_by_sub needs a grant');
SELECT throws_ok($$SELECT session_delete_by_handle('dave', gen_random_uuid())$$, '42501', NULL, 'session_delete_by_handle needs a grant');

-- a caller's search_path cannot redirect the functions
CREATE TEMP TABLE sessions (id_hash bytea);
SET LOCAL search_path = pg_temp, public;
SELECT session_create() AS tok3 \gset
SELECT is((SELECT count(*) FROM session_get(:'tok3')), 1::bigint, 'a temporary "sessions" table does not capture the functions');
SELECT is((SELECT count(*) FROM pg_temp.sessions), 0::bigint, 'and stays empty');
RESET search_path;

RESET ROLE;
GRANT EXECUTE ON FUNCTION session_cleanup(integer, integer), session_list(text), session_delete_by_sub(text, text),
    session_delete_by_handle(text, uuid) TO pgsession_test_app;
SET ROLE pgsession_test_app;
SELECT lives_ok($$SELECT session_cleanup()$$, 'with a grant, session_cleanup runs');
SELECT is((SELECT count(*) FROM session_list('dave')), 0::bigint, 'with a grant, session_list runs');
SELECT session_create(sub => 'dave') AS tok4 \gset
SELECT is((SELECT count(*) FROM session_list('dave')), 1::bigint, 'session_list shows the user''s session');
SELECT is(session_delete_by_handle('dave', (SELECT handle FROM session_list('dave'))), true,
          'with a grant, session_delete_by_handle runs');
SELECT session_create(sub => 'dave') AS tok5 \gset
SELECT is(session_delete_by_sub('dave'), 1::bigint, 'with a grant, session_delete_by_sub runs');
SELECT throws_ok($$SELECT * FROM pgsession.sessions$$, '42501', NULL, 'the grants still give no access to the table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
