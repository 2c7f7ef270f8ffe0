-- The installed objects: table, indexes, type, comments on everything, and the
-- extension's version.
BEGIN;
SELECT plan(16);

SELECT has_schema('pgsession', 'the internal schema pgsession exists');
SELECT has_table('pgsession', 'sessions', 'the sessions table exists');
SELECT columns_are('pgsession', 'sessions', ARRAY['id_hash', 'nonce', 'state', 'access_token', 'code_verifier', 'sub',
                   'data', 'created_at', 'last_accessed_at', 'expires_at', 'idle_timeout', 'absolute_expires_at',
                   'cleanup_after', 'handle', 'user_agent', 'ip'], 'the table has the documented columns');
SELECT col_is_pk('pgsession', 'sessions', 'id_hash', 'the key is the token digest');
SELECT col_type_is('pgsession', 'sessions', 'expires_at', 'timestamp with time zone', 'times are timestamptz');
SELECT indexes_are('pgsession', 'sessions', ARRAY['sessions_pkey', 'sessions_cleanup_after_idx', 'sessions_sub_idx'],
                   'exactly three indexes: the key, the cleanup index and the user index (no duplicate of the key)');
SELECT is((SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
           WHERE i.indrelid = 'pgsession.sessions'::regclass AND a.attname IN ('last_accessed_at', 'expires_at')),
          0::bigint, 'no index covers a column that recording an access writes (so those updates can be HOT)');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'pgsession.sessions'::regclass), ARRAY['fillfactor=80'],
          'the table leaves room on each page for HOT updates');
SELECT has_type('pgsession', 'session', 'the result type of session_get exists');

-- every object has a comment
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
           JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgsession'
           WHERE obj_description(p.oid, 'pg_proc') IS NULL), NULL::text[], 'every function has a comment');
SELECT is((SELECT array_agg(a.attname::text ORDER BY 1) FROM pg_attribute a
           WHERE a.attrelid = 'pgsession.sessions'::regclass AND a.attnum > 0 AND NOT a.attisdropped
             AND col_description(a.attrelid, a.attnum) IS NULL), NULL::text[], 'every column has a comment');
SELECT is((SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_class c
           WHERE c.relnamespace = 'pgsession'::regnamespace AND c.relkind IN ('r', 'i', 'v', 'S')
             AND obj_description(c.oid, 'pg_class') IS NULL), NULL::text[], 'every table, index and view has a comment');
SELECT isnt(obj_description('pgsession'::regnamespace, 'pg_namespace'), NULL, 'the schema has a comment');
SELECT isnt(obj_description('pgsession.session'::regtype, 'pg_type'), NULL, 'the type has a comment');

-- the installed version is the one the control file names
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'pgsession'),
          (SELECT default_version FROM pg_available_extensions WHERE name = 'pgsession'),
          'the installed version is the default version');
SELECT ok((SELECT 'pgsession.sessions'::regclass = ANY (extconfig) FROM pg_extension WHERE extname = 'pgsession'),
          'pg_dump includes the sessions'' rows (they must survive a dump and restore)');

SELECT * FROM finish();
ROLLBACK;
