-- session_schedule_cleanup and session_unschedule_cleanup without pg_cron (this cluster
-- does not load it; test/t/004 runs them against the real one): the interval is checked
-- before pg_cron is looked for, a schema "cron" that a non-superuser made is not pg_cron
-- and none of its functions runs, and the hint for another database spells the command
-- out with the schema pgsession is in.
BEGIN;
SELECT plan(14);

\ir lib/error_of.sql

-- the argument first
SELECT throws_ok($$SELECT session_schedule_cleanup('7 minutes')$$, '22023',
                 'pg_cron cannot run the cleanup every 00:07:00',
                 'an interval pg_cron cannot keep is reported before the missing pg_cron');
SELECT throws_ok($$SELECT session_schedule_cleanup(NULL)$$, '22004', 'every must not be NULL',
                 'so is a NULL interval');
SELECT throws_ok($$SELECT session_schedule_cleanup('15 minutes')$$, '55000', 'pg_cron is not installed',
                 'a good interval without pg_cron: pg_cron is missing');

-- a role an administrator granted session_schedule_cleanup gets as far as the superuser
-- (not "permission denied" for pgsession's helpers)
CREATE ROLE pgsession_test_scheduler NOLOGIN;
GRANT EXECUTE ON FUNCTION session_schedule_cleanup(interval), session_unschedule_cleanup() TO pgsession_test_scheduler;
GRANT ALL ON __tcache__, __tcache___id_seq, __tresults___numb_seq TO pgsession_test_scheduler;
SET ROLE pgsession_test_scheduler;
SELECT throws_ok($$SELECT session_schedule_cleanup('15 minutes')$$, '55000', 'pg_cron is not installed',
                 'a role granted session_schedule_cleanup: pg_cron is missing, as for a superuser');
SELECT throws_ok('SELECT session_unschedule_cleanup()', '55000', 'pg_cron is not installed',
                 'and session_unschedule_cleanup');
RESET ROLE;

-- the command the job runs names the procedure with its schema and a typed argument
SELECT is(pgsession.cleanup_command(),
          format('CALL %I.session_cleanup_in_batches(batch_size => NULL::integer)',
                 (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgsession')),
          'the job''s command: schema-qualified, its argument named and typed');

-- in a database other than cron.database_name, the hint is the call to make there, with
-- that command (pg_cron is not loaded here, so its setting is a plain placeholder)
SET LOCAL cron.database_name = 'jobs';
SELECT is(pg_temp.error_of('SELECT session_unschedule_cleanup()'),
          format('55000: pg_cron is not installed in database "%s" | pg_cron keeps its jobs in database "jobs" (cron.database_name). | '
                 'In database "jobs", run: SELECT cron.schedule_in_database(%L, ''*/15 * * * *'', %L, %L);',
                 current_database(), 'pgsession-cleanup-' || current_database(),
                 pgsession.cleanup_command(), current_database()),
          'another database: the hint spells out the schema, not a placeholder');
SELECT unalike(pg_temp.error_of('SELECT session_schedule_cleanup()'), '%<schema>%', 'no <schema> placeholder left');
RESET cron.database_name;

-- a fake pg_cron: the owner of a database (any role that may create a schema) makes a
-- schema cron with functions and a view named like pg_cron's, which record who calls them
CREATE ROLE pgsession_test_owner NOLOGIN;
SELECT format('GRANT CREATE ON DATABASE %I TO pgsession_test_owner', current_database()) \gexec
GRANT ALL ON __tcache__, __tcache___id_seq, __tresults___numb_seq TO pgsession_test_owner;
SET ROLE pgsession_test_owner;
CREATE SCHEMA cron;
CREATE TABLE cron.calls (fn text, by_user name);
GRANT ALL ON cron.calls TO PUBLIC;
GRANT USAGE ON SCHEMA cron TO PUBLIC;
CREATE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint
    LANGUAGE sql AS $$ INSERT INTO cron.calls VALUES ('schedule', current_user) RETURNING 42::bigint $$;
CREATE FUNCTION cron.unschedule(job_id bigint) RETURNS boolean
    LANGUAGE sql AS $$ INSERT INTO cron.calls VALUES ('unschedule', current_user) RETURNING true $$;
CREATE FUNCTION cron.spy() RETURNS bigint
    LANGUAGE sql AS $$ INSERT INTO cron.calls VALUES ('job', current_user) RETURNING 7::bigint $$;
CREATE VIEW cron.job AS
    SELECT cron.spy() AS jobid, 'pgsession-cleanup-' || current_database() AS jobname,
           current_user::text AS username;
GRANT SELECT ON cron.job TO PUBLIC;
RESET ROLE;
SELECT ok(to_regprocedure('cron.schedule(text,text,text)') IS NOT NULL
          AND (SELECT nspowner = 'pgsession_test_owner'::regrole FROM pg_namespace WHERE nspname = 'cron'),
          'the fake cron schema, owned by a non-superuser, has a schedule(text, text, text)');

-- a superuser schedules and unschedules: pgsession refuses, calling none of it
SELECT is(pg_temp.error_of($$SELECT session_schedule_cleanup('15 minutes')$$),
          '55000: pg_cron is not installed | Scheduling the cleanup needs the pg_cron extension, version 1.4 or later, in this database; '
          'schema "cron" is not part of it, and pgsession calls only the extension''s own functions. | '
          'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart and run CREATE EXTENSION pg_cron; '
          'or add pgsession to shared_preload_libraries to use its cleanup worker.',
          'session_schedule_cleanup: a schema named cron is not pg_cron, and the error says so');
SELECT throws_ok('SELECT session_unschedule_cleanup()', '55000', 'pg_cron is not installed',
                 'session_unschedule_cleanup refuses it too');
SELECT throws_ok('SELECT pgsession.require_pg_cron()', '55000', 'pg_cron is not installed',
                 'require_pg_cron looks for the extension, not for its function names');
SELECT is((SELECT count(*) FROM cron.calls), 0::bigint, 'none of the fake pg_cron''s functions ran');
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'), 0::bigint,
          '(pg_cron is indeed not installed in this database)');

SELECT * FROM finish();
ROLLBACK;
