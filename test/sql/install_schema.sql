-- The schema pgsession's functions are installed in: who else may create objects there
-- (CREATE EXTENSION and the update warn about them; test/upgrade checks the warnings),
-- what a function planted there can do, and that the command the pg_cron job runs is one
-- a planted procedure cannot capture.  The planted objects live in a database of their
-- own, made here as clusters created before PostgreSQL 15 have public (CREATE for every
-- role), reached through dblink and dropped at the end.
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS pgsession_planted;
DROP ROLE IF EXISTS pgsession_test_planter;
RESET client_min_messages;
CREATE ROLE pgsession_test_planter NOLOGIN;
CREATE DATABASE pgsession_planted;
SELECT dblink_connect('planted', format('host=127.0.0.1 port=%s dbname=pgsession_planted user=%s',
                                        current_setting('port'), current_user));
SELECT dblink_exec('planted', 'GRANT CREATE ON SCHEMA public TO PUBLIC');
SELECT dblink_exec('planted', 'SET client_min_messages = error');
SELECT dblink_exec('planted', 'CREATE EXTENSION pgsession');
SELECT dblink_exec('planted', 'RESET client_min_messages');
\o
BEGIN;
SELECT plan(20);

-- who may create objects in a schema, besides its owner and superusers
CREATE ROLE pgsession_test_writer NOLOGIN;
CREATE ROLE pgsession_test_member NOLOGIN IN ROLE pgsession_test_writer;
CREATE ROLE pgsession_test_schema_owner NOLOGIN;
CREATE ROLE pgsession_test_owner_member NOLOGIN IN ROLE pgsession_test_schema_owner;
CREATE ROLE pgsession_test_superuser NOLOGIN SUPERUSER;
CREATE SCHEMA pgsession_api;
SET LOCAL client_min_messages = error;  -- the warnings the checks raise
SELECT is(pgsession.check_schema_writers('pgsession_api'), NULL,
          'a schema of its own, owned by a superuser: nobody else may create objects there');
SELECT is(pgsession.check_schema_writers(extnamespace), NULL,
          'nor in this database''s install schema (public, as PostgreSQL 15 creates it)')
  FROM pg_extension WHERE extname = 'pgsession';
GRANT CREATE ON SCHEMA pgsession_api TO pgsession_test_superuser;
SELECT is(pgsession.check_schema_writers('pgsession_api'), NULL, 'a superuser with a grant does not count');
GRANT CREATE ON SCHEMA pgsession_api TO pgsession_test_writer;
SELECT is(pgsession.check_schema_writers('pgsession_api'), ARRAY['pgsession_test_member', 'pgsession_test_writer'],
          'a role granted CREATE counts, and so does a member of it');
GRANT CREATE ON SCHEMA pgsession_api TO PUBLIC;
SELECT is(pgsession.check_schema_writers('pgsession_api'), ARRAY['PUBLIC'], 'CREATE for PUBLIC: every role');
CREATE SCHEMA "Owned Elsewhere" AUTHORIZATION pgsession_test_schema_owner;
SELECT is(pgsession.check_schema_writers('"Owned Elsewhere"'), ARRAY['pgsession_test_owner_member', 'pgsession_test_schema_owner'],
          'a schema owned by a role that is not a superuser: its owner and the owner''s members count (they may plant there, or drop the schema with pgsession in it)');
GRANT CREATE ON SCHEMA "Owned Elsewhere" TO pgsession_test_writer;
SELECT is(pgsession.check_schema_writers('"Owned Elsewhere"'),
          ARRAY['pgsession_test_member', 'pgsession_test_owner_member', 'pgsession_test_schema_owner', 'pgsession_test_writer'],
          'in a schema owned by another role, a grant counts too');
CREATE SCHEMA "Owned By A Superuser" AUTHORIZATION pgsession_test_superuser;
SELECT is(pgsession.check_schema_writers('"Owned By A Superuser"'), NULL,
          'a schema owned by a superuser: only grants count');
RESET client_min_messages;

-- the database whose public schema every role may write: CREATE EXTENSION found that
SELECT is((SELECT w FROM dblink('planted', 'SELECT pgsession.check_schema_writers(''public'')::text') AS r(w text)),
          '{PUBLIC}', 'in the other database, every role may create objects in public');

-- a role there plants, in public, a session_get that takes varchar and a
-- session_cleanup_in_batches that takes nothing; both record who ran them
SELECT dblink_exec('planted', $$
    SET ROLE pgsession_test_planter;
    CREATE TABLE public.planted_calls (fn text, by_user name);
    GRANT ALL ON public.planted_calls TO PUBLIC;
    CREATE FUNCTION public.session_get(id varchar) RETURNS SETOF pgsession.session LANGUAGE sql AS
        'INSERT INTO public.planted_calls VALUES (''session_get'', current_user);
         SELECT (NULL::pgsession.session).*';
    CREATE PROCEDURE public.session_cleanup_in_batches() LANGUAGE sql AS
        'INSERT INTO public.planted_calls VALUES (''session_cleanup_in_batches'', current_user)';
    RESET ROLE$$) AS planted \gset
SELECT t AS created FROM dblink('planted', $$SELECT session_create(id => 'planted-db-session-01')$$) AS r(t text) \gset

-- what the warning is about: a call whose argument is varchar runs the planted function,
-- as the (superuser) caller; a call that passes text runs pgsession's
SELECT is((SELECT n FROM dblink('planted', $$SELECT count(*) FROM session_get('planted-db-session-01'::varchar) WHERE sub IS NULL$$) AS r(n bigint)),
          1::bigint, 'session_get($1::varchar) returns a row');
SELECT is((SELECT c FROM dblink('planted', $$SELECT string_agg(fn || ' as ' || by_user, ', ') FROM public.planted_calls$$) AS r(c text)),
          'session_get as ' || current_user, 'but the row came from the planted session_get(varchar), run as the superuser who called it');
SELECT is((SELECT n FROM dblink('planted', $$SELECT count(*) FROM session_get('planted-db-session-01'::text)$$) AS r(n bigint)),
          1::bigint, 'session_get($1::text) reaches pgsession''s');
SELECT is((SELECT n FROM dblink('planted', 'SELECT count(*) FROM public.planted_calls') AS r(n bigint)),
          1::bigint, 'and the planted one did not run again');

-- the pg_cron job's command: 0.1.0's was ambiguous beside the planted procedure; the
-- command pgsession generates now runs pgsession's procedure, which removes an expired
-- session (the CALL runs outside a transaction block there, as pg_cron runs it)
SELECT t AS expired FROM dblink('planted', $$SELECT session_create(id => 'planted-expired-0001', idle_timeout => '1 second') FROM pg_sleep(1.1)$$) AS r(t text) \gset
SELECT throws_ok($$SELECT dblink_exec('planted', 'CALL public.session_cleanup_in_batches()')$$, '42725', NULL,
                 'a CALL without arguments is ambiguous beside a planted procedure with none (what the 0.1.0 job ran)');
SELECT (SELECT c FROM dblink('planted', 'SELECT pgsession.cleanup_command()') AS r(c text)) AS command \gset
SELECT is(:'command'::text, 'CALL public.session_cleanup_in_batches(batch_size => NULL::integer)', 'the command the job runs');
SELECT lives_ok(format('SELECT dblink_exec(%L, %L)', 'planted', :'command'), 'it runs beside the planted procedure');
SELECT is((SELECT n FROM dblink('planted', $$SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256('planted-expired-0001')$$) AS r(n bigint)),
          0::bigint, 'and it is pgsession''s procedure that ran: the expired session is gone');
SELECT is((SELECT n FROM dblink('planted', $$SELECT count(*) FROM public.planted_calls WHERE fn = 'session_cleanup_in_batches'$$) AS r(n bigint)),
          0::bigint, 'the planted procedure never ran');

-- public as PostgreSQL 15 makes it is owned by pg_database_owner: trusted when the
-- database's owner is a superuser, not when it is an ordinary role (which could plant
-- there, or drop public with pgsession in it)
SELECT dblink_exec('planted', 'REVOKE CREATE ON SCHEMA public FROM PUBLIC');
SELECT dblink_exec('planted', 'ALTER SCHEMA public OWNER TO pg_database_owner');
SELECT is((SELECT w FROM dblink('planted', 'SELECT pgsession.check_schema_writers(''public'')::text') AS r(w text)),
          NULL, 'public owned by pg_database_owner in a database a superuser owns: nobody');
SELECT dblink_exec('planted', 'ALTER DATABASE pgsession_planted OWNER TO pgsession_test_planter');
SELECT is((SELECT w FROM dblink('planted', 'SELECT pgsession.check_schema_writers(''public'')::text') AS r(w text)),
          '{pgsession_test_planter}', 'in a database an ordinary role owns: that role');

SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT dblink_disconnect('planted');
DROP DATABASE pgsession_planted;
DROP ROLE pgsession_test_planter;
\o
