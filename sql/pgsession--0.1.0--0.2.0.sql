-- pgsession 0.1.0 -> 0.2.0.  Every object this script changes ends up exactly as
-- sql/pgsession--0.2.0.sql creates it (test/upgrade checks that, object by object).
\echo Use "ALTER EXTENSION pgsession UPDATE TO '0.2.0'" to load this file. \quit

-- section: session_save (framework stores)
-- A framework's store (express-session, Django, Spring Session, Rails) saves a session
-- whole under an id it chose and sets its lifetime from the cookie: one statement,
-- race-free under concurrent saves of one id (under READ COMMITTED they wait for each
-- other and none fails).
CREATE FUNCTION session_save(
    id               text,
    data             jsonb,
    sub              text DEFAULT NULL,
    idle_timeout     interval DEFAULT NULL,
    absolute_timeout interval DEFAULT NULL,
    nonce            text DEFAULT NULL,
    state            text DEFAULT NULL,
    code_verifier    text DEFAULT NULL,
    access_token     text DEFAULT NULL,
    user_agent       text DEFAULT NULL,
    ip               inet DEFAULT NULL
) RETURNS timestamptz
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_save';
COMMENT ON FUNCTION session_save(text, jsonb, text, interval, interval, text, text, text, text, text, inet) IS
'Creates or replaces, whole, the session with this application-chosen id and returns its expiry; a live session keeps its created_at, its handle, its idle timeout and absolute expiry unless given, and its user_agent and ip unless given; an expired one is replaced as new';

-- section: session_update changes timeouts too
--
-- New arguments mean a new signature: the function is dropped and created again.  The
-- privileges granted or revoked on the 0.1.0 function (README "Privileges" shows how to
-- restrict it to an application's role) are kept: saved here, applied again with those
-- of the other recreated functions (section "a user's own sessions" below).
SELECT pg_catalog.set_config('pgsession_upgrade.session_update_acl',
                             coalesce(p.proacl::text, ''), true)
  FROM pg_catalog.pg_proc p
 WHERE p.oid = 'session_update(text, text, text, text, text, text, jsonb, text[])'::pg_catalog.regprocedure;
DROP FUNCTION session_update(text, text, text, text, text, text, jsonb, text[]);
CREATE FUNCTION session_update(
    id               text,
    nonce            text DEFAULT NULL,
    state            text DEFAULT NULL,
    code_verifier    text DEFAULT NULL,
    access_token     text DEFAULT NULL,
    sub              text DEFAULT NULL,
    data             jsonb DEFAULT NULL,
    clear            text[] DEFAULT NULL,
    idle_timeout     interval DEFAULT NULL,
    absolute_timeout interval DEFAULT NULL,
    user_agent       text DEFAULT NULL,
    ip               inet DEFAULT NULL
) RETURNS boolean
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_update';
COMMENT ON FUNCTION session_update(text, text, text, text, text, text, jsonb, text[], interval, interval, text, inet) IS
'Changes the given (non-NULL) fields and device metadata (user_agent, ip) of a live session, sets the ones named in clear to NULL, and changes its idle timeout and absolute timeout (measured from created_at; 0 for none) where given; records an access; returns whether a live session was updated (false for a malformed token)';


-- section: the per-request functions pin name lookup in the library, not with a SET clause
--
-- (see the comment on the per-session functions in sql/pgsession--0.2.0.sql)
ALTER FUNCTION session_touch(text) RESET search_path;
ALTER FUNCTION session_delete(text) RESET search_path;
ALTER FUNCTION session_rotate(text) RESET search_path;

-- section: malformed tokens read as unknown sessions; session_get's access rule
COMMENT ON FUNCTION session_get(text) IS
'Returns the live session with this token (no row when unknown, expired or malformed) and records the access at most once per pgsession.touch_interval and at least once per half idle timeout, never waiting for another writer; search_path is pinned by the library, not by a SET clause';
COMMENT ON FUNCTION session_touch(text) IS
'Records an access now and extends the idle expiry; returns the new expires_at, NULL when unknown, expired or malformed';
COMMENT ON FUNCTION session_delete(text) IS
'Removes the session with this token; returns whether it was live (false for a malformed token); notifies pgsession.notify_channel at commit';
COMMENT ON FUNCTION session_rotate(text) IS
'Gives a live session a new token and returns it (NULL when unknown, expired or malformed); the old token stops working at once (notified on pgsession.notify_channel at commit); the handle stays; records an access';

-- section: pg_cron is called as the extension itself, and the job's command is typed
--
-- (see the comments in sql/pgsession--0.2.0.sql)  require_pg_cron returns pg_cron's
-- schema now: a new result type, so it is dropped and created again.  The schedule
-- functions check their argument before looking for pg_cron.
CREATE FUNCTION pgsession.cleanup_command() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT format('CALL %I.session_cleanup_in_batches(batch_size => NULL::integer)', n.nspname)
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgsession'
$$;
COMMENT ON FUNCTION pgsession.cleanup_command() IS
'The CALL the pg_cron job runs: session_cleanup_in_batches named with its schema and its argument typed, so that no other procedure of that name resolves it';
-- Executable by every role, as require_pg_cron is: they only read the catalog, and
-- session_schedule_cleanup, which runs as its caller (whom an administrator granted it),
-- calls both.

DROP FUNCTION pgsession.require_pg_cron();
CREATE FUNCTION pgsession.require_pg_cron() RETURNS name
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    -- pg_cron makes cron.database_name readable only by superusers and members of
    -- pg_read_all_settings: a role granted session_schedule_cleanup is not told where it is.
    cron_database text := CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE')
                               THEN nullif(current_setting('cron.database_name', true), '') END;
    cron_extension oid;
    cron_version text;
    cron_schema name;
    owner_is_superuser boolean;
    trusted_members bigint := 0;
BEGIN
    SELECT e.oid, e.extversion, r.rolsuper INTO cron_extension, cron_version, owner_is_superuser
      FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner
     WHERE e.extname = 'pg_cron';
    IF FOUND THEN
        -- pg_cron's objects are in a schema it creates (cron), not in the extension's own
        -- (where CREATE EXTENSION pg_cron ran): the schema of its schedule function.
        SELECT s.nspname INTO cron_schema
          FROM pg_depend d
          JOIN pg_proc p ON p.oid = d.objid
          JOIN pg_namespace s ON s.oid = p.pronamespace
         WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
           AND d.refobjid = cron_extension AND d.deptype = 'e'
           AND p.proname = 'schedule' AND oidvectortypes(p.proargtypes) = 'text, text, text';
        IF cron_schema IS NOT NULL THEN
            SELECT count(*) INTO trusted_members
              FROM pg_depend d
              LEFT JOIN pg_namespace n ON d.classid = 'pg_namespace'::regclass AND n.oid = d.objid
              LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
              LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
              JOIN pg_roles r ON r.oid = coalesce(n.nspowner, p.proowner, c.relowner)
             WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = cron_extension
               AND d.deptype = 'e' AND r.rolsuper
               AND (n.nspname = cron_schema
                    OR p.oid = to_regprocedure(format('%I.schedule(text, text, text)', cron_schema))
                    OR p.oid = to_regprocedure(format('%I.unschedule(bigint)', cron_schema))
                    OR c.oid = to_regclass(format('%I.job', cron_schema)));
        END IF;
        IF owner_is_superuser AND trusted_members = 4 THEN
            RETURN cron_schema;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('pg_cron %s is not one pgsession can use', cron_version),
            DETAIL = 'pgsession calls pg_cron''s own schedule(text, text, text), '
                     'unschedule(bigint) and job table, which must be members of the '
                     'extension in a schema of its own, owned like it by a superuser; '
                     'this installation lacks one.',
            HINT = CASE WHEN cron_schema IS NULL
                        THEN 'Update pg_cron to version 1.4 or later (ALTER EXTENSION pg_cron UPDATE).'
                        ELSE 'Install pg_cron again as a superuser, or give its objects back to one '
                             '(ALTER ... OWNER TO).' END;
    END IF;
    IF cron_database IS NOT NULL AND cron_database <> current_database() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('pg_cron is not installed in database "%s"', current_database()),
            DETAIL = format('pg_cron keeps its jobs in database "%s" (cron.database_name).',
                            cron_database),
            HINT = format('In database "%s", run: SELECT cron.schedule_in_database(%L, '
                          '''*/15 * * * *'', %L, %L);',
                          cron_database, 'pgsession-cleanup-' || current_database(),
                          pgsession.cleanup_command(), current_database());
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'object_not_in_prerequisite_state',
        MESSAGE = 'pg_cron is not installed',
        DETAIL = CASE WHEN to_regnamespace('cron') IS NULL
                      THEN 'Scheduling the cleanup needs the pg_cron extension, version 1.4 '
                           'or later, in this database.'
                      ELSE 'Scheduling the cleanup needs the pg_cron extension, version 1.4 '
                           'or later, in this database; schema "cron" is not part of it, and '
                           'pgsession calls only the extension''s own functions.' END,
        HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this '
               'database, restart and run CREATE EXTENSION pg_cron; or add pgsession to '
               'shared_preload_libraries to use its cleanup worker.';
END
$$;
COMMENT ON FUNCTION pgsession.require_pg_cron() IS
'Returns the schema of the pg_cron extension (1.4 or later, installed by a superuser) in this database; otherwise raises an error saying what to do';

CREATE OR REPLACE FUNCTION session_schedule_cleanup(every interval DEFAULT '15 minutes') RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    job_name text := 'pgsession-cleanup-' || current_database();
    cron_schema name;
    ext_schema name;
    seconds numeric;
    minutes integer;
    schedule text;
    old_job bigint;
    new_job bigint;
BEGIN
    IF every IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
            MESSAGE = 'every must not be NULL';
    END IF;
    seconds := extract(epoch FROM every);
    IF extract(year FROM every) <> 0 OR extract(month FROM every) <> 0 OR seconds <= 0
       OR seconds % 60 <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('pg_cron cannot run the cleanup every %s', every),
            DETAIL = 'pg_cron schedules whole minutes, days at the most.',
            HINT = 'Use a whole number of minutes, e.g. ''15 minutes''.';
    END IF;
    minutes := seconds / 60;
    IF minutes < 60 AND 60 % minutes = 0 THEN
        schedule := CASE minutes WHEN 1 THEN '* * * * *' ELSE format('*/%s * * * *', minutes) END;
    ELSIF minutes % 60 = 0 AND 1440 % minutes = 0 THEN
        schedule := CASE minutes / 60
                        WHEN 1 THEN '0 * * * *'
                        WHEN 24 THEN '0 0 * * *'
                        ELSE format('0 */%s * * *', minutes / 60) END;
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('pg_cron cannot run the cleanup every %s', every),
            DETAIL = 'A cron schedule repeats evenly only for intervals that divide an hour '
                     '(1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes) or a day (1, 2, 3, 4, '
                     '6, 8 or 12 hours, or 1 day).',
            HINT = 'Pick the nearest of these intervals.';
    END IF;

    cron_schema := pgsession.require_pg_cron();
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgsession';
    IF NOT (has_function_privilege('pgsession.cleanup_batch(integer)', 'EXECUTE')
            AND has_function_privilege(format('%I.session_cleanup_in_batches(integer)',
                                              ext_schema), 'EXECUTE')) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'permission denied to schedule the cleanup',
            DETAIL = format('The job would run as %I, who may not execute '
                            'session_cleanup_in_batches() and pgsession.cleanup_batch().',
                            current_user),
            HINT = 'GRANT EXECUTE ON PROCEDURE session_cleanup_in_batches(integer) and '
                   'FUNCTION pgsession.cleanup_batch(integer) to this role.';
    END IF;

    -- Replace a job scheduled before, whatever its interval.  pg_cron's objects are named
    -- with the schema require_pg_cron found and called with their exact argument types.
    FOR old_job IN EXECUTE format('SELECT jobid FROM %I.job WHERE jobname = $1 '
                                  'AND username = current_user', cron_schema) USING job_name LOOP
        EXECUTE format('SELECT %I.unschedule($1)', cron_schema) USING old_job;
    END LOOP;
    EXECUTE format('SELECT %I.schedule($1, $2, $3)', cron_schema) INTO new_job
        USING job_name, schedule, pgsession.cleanup_command();
    RETURN new_job;
END
$$;
COMMENT ON FUNCTION session_schedule_cleanup(interval) IS
'Has pg_cron run session_cleanup_in_batches() every interval (whole minutes that divide an hour or a day) in this database, replacing an earlier schedule; returns the pg_cron job id';
REVOKE ALL ON FUNCTION session_schedule_cleanup(interval) FROM PUBLIC;

CREATE OR REPLACE FUNCTION session_unschedule_cleanup() RETURNS boolean
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    job_name text := 'pgsession-cleanup-' || current_database();
    cron_schema name := pgsession.require_pg_cron();
    old_job bigint;
    removed boolean := false;
BEGIN
    FOR old_job IN EXECUTE format('SELECT jobid FROM %I.job WHERE jobname = $1 '
                                  'AND username = current_user', cron_schema) USING job_name LOOP
        EXECUTE format('SELECT %I.unschedule($1)', cron_schema) USING old_job;
        removed := true;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION session_unschedule_cleanup() IS
'Removes the pg_cron job of session_schedule_cleanup() for this database; returns whether there was one';
REVOKE ALL ON FUNCTION session_unschedule_cleanup() FROM PUBLIC;

-- section: a user's own sessions: handles, devices, ending one, events
--
-- (see sql/pgsession--0.2.0.sql)  The new columns go at the end, as in a fresh install.
-- The volatile default rewrites the table once, under its ACCESS EXCLUSIVE lock, and
-- gives every existing session a handle of its own; their device metadata is NULL.
ALTER TABLE pgsession.sessions
    ADD COLUMN handle uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN user_agent text,
    ADD COLUMN ip inet;
COMMENT ON COLUMN pgsession.sessions.handle IS 'Random name of the session for session_list and session_delete_by_handle; stable across rotation, never a token';
COMMENT ON COLUMN pgsession.sessions.user_agent IS 'User agent of the device the session belongs to, as the application gave it (at most 512 characters)';
COMMENT ON COLUMN pgsession.sessions.ip IS 'Address of the device the session belongs to, as the application gave it';
COMMENT ON INDEX pgsession.sessions_sub_idx IS 'Finds the sessions of a user (session_list, session_delete_by_sub, session_delete_by_handle)';

-- New arguments and result columns mean new signatures: these functions are dropped and
-- created again, and the privileges on the 0.1.0 ones are saved here and applied again
-- below, with session_update's.  session_delete_by_handle, new, gets those of
-- session_delete_by_sub: a role that may log a user out everywhere may end one device.
SELECT pg_catalog.set_config('pgsession_upgrade.' || f.name || '_acl',
                             coalesce(p.proacl::text, ''), true)
  FROM (VALUES ('session_create',
                'session_create(text, text, text, text, text, text, jsonb, interval, interval)'),
               ('session_list', 'session_list(text)'),
               ('session_delete_by_sub', 'session_delete_by_sub(text)')) AS f(name, signature)
  JOIN pg_catalog.pg_proc p ON p.oid = f.signature::pg_catalog.regprocedure;
DROP FUNCTION session_create(text, text, text, text, text, text, jsonb, interval, interval);
DROP FUNCTION session_list(text);
DROP FUNCTION session_delete_by_sub(text);

CREATE FUNCTION session_create(
    id               text DEFAULT NULL,
    nonce            text DEFAULT NULL,
    state            text DEFAULT NULL,
    code_verifier    text DEFAULT NULL,
    access_token     text DEFAULT NULL,
    sub              text DEFAULT NULL,
    data             jsonb DEFAULT NULL,
    idle_timeout     interval DEFAULT NULL,
    absolute_timeout interval DEFAULT NULL,
    user_agent       text DEFAULT NULL,
    ip               inet DEFAULT NULL
) RETURNS text
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_create';
COMMENT ON FUNCTION session_create(text, text, text, text, text, text, jsonb, interval, interval, text, inet) IS
'Creates a session and returns its token (a new 256-bit base64url token when id is NULL); timeouts NULL take pgsession.idle_timeout / pgsession.absolute_timeout; user_agent and ip describe the device, for session_list';

CREATE FUNCTION session_list(sub text)
RETURNS TABLE (
    created_at          timestamptz,
    last_accessed_at    timestamptz,
    expires_at          timestamptz,
    absolute_expires_at timestamptz,
    idle_timeout        interval,
    handle              uuid,
    user_agent          text,
    ip                  inet
)
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pgsession_list';
COMMENT ON FUNCTION session_list(text) IS
'Lists the live sessions of a user (metadata only, never tokens or secrets), oldest first, each with its handle (for session_delete_by_handle) and device';

CREATE FUNCTION session_delete_by_sub(sub text, keep text DEFAULT NULL) RETURNS bigint
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pgsession_delete_by_sub';
COMMENT ON FUNCTION session_delete_by_sub(text, text) IS
'Removes every session of a user (log out everywhere) but the one whose token is keep (log out the other devices); returns how many were live; notifies pgsession.notify_channel once per session at commit';

CREATE FUNCTION session_delete_by_handle(sub text, handle uuid) RETURNS boolean
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pgsession_delete_by_handle';
COMMENT ON FUNCTION session_delete_by_handle(text, uuid) IS
'Removes the session of this user with this handle (from session_list); returns whether a live one was removed (false for another user''s or an unknown handle); notifies pgsession.notify_channel at commit';

DO $$
DECLARE
    target record;
    old_acl text;
    item record;
BEGIN
    FOR target IN SELECT f.saved, f.signature::pg_catalog.regprocedure AS fn
                    FROM (VALUES
                        ('session_update', 'session_update(text, text, text, text, text, text, jsonb, text[], interval, interval, text, inet)'),
                        ('session_create', 'session_create(text, text, text, text, text, text, jsonb, interval, interval, text, inet)'),
                        ('session_list', 'session_list(text)'),
                        ('session_delete_by_sub', 'session_delete_by_sub(text, text)'),
                        ('session_delete_by_sub', 'session_delete_by_handle(text, uuid)')) AS f(saved, signature) LOOP
        old_acl := pg_catalog.current_setting('pgsession_upgrade.' || target.saved || '_acl', true);
        -- An empty ACL is the default one (EXECUTE for PUBLIC), which a new function has.
        CONTINUE WHEN old_acl IS NULL OR old_acl = '';
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', target.fn);
        FOR item IN SELECT a.grantee, a.privilege_type, a.is_grantable
                      FROM pg_catalog.aclexplode(old_acl::pg_catalog.aclitem[]) AS a LOOP
            EXECUTE pg_catalog.format('GRANT %s ON FUNCTION %s TO %s%s', item.privilege_type,
                target.fn,
                CASE WHEN item.grantee = 0 THEN 'PUBLIC'
                     ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(item.grantee)) END,
                CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;

-- section: a warning when others may create objects in the schema of the functions
--
-- (see sql/pgsession--0.2.0.sql)  Checked on every update, since the schema's
-- privileges may date from before PostgreSQL 15, when every role could create in public.
CREATE FUNCTION pgsession.check_schema_writers(target regnamespace) RETURNS text[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    writers text[];
    shown text;
    listed text;
    -- Whether the schema's owner is a superuser (for public as PostgreSQL 15 makes it,
    -- owned by pg_database_owner: the database's owner).  A schema owned by another role
    -- is that role's to fill, or to drop with pgsession in it: the owner and its members
    -- count as writers too.
    owner_trusted boolean := (
        SELECT r.rolsuper
          FROM pg_namespace n
          JOIN pg_roles r ON r.oid = CASE WHEN n.nspowner = 'pg_database_owner'::regrole
                                          THEN (SELECT datdba FROM pg_database
                                                 WHERE datname = current_database())
                                          ELSE n.nspowner END
         WHERE n.oid = target);
BEGIN
    -- CREATE granted to PUBLIC: every role, not worth listing one by one.
    SELECT ARRAY['PUBLIC'] INTO writers
      FROM pg_namespace n, aclexplode(n.nspacl) AS a
     WHERE n.oid = target AND a.grantee = 0 AND a.privilege_type = 'CREATE';
    IF writers IS NULL THEN
        SELECT array_agg(quote_ident(r.rolname) ORDER BY r.rolname) INTO writers
          FROM pg_namespace n, pg_roles r
         WHERE n.oid = target AND NOT r.rolsuper AND r.rolname <> 'pg_database_owner'
           AND has_schema_privilege(r.oid, n.oid, 'CREATE')
           AND (NOT owner_trusted OR NOT pg_has_role(r.oid, n.nspowner, 'MEMBER'));
    END IF;
    IF writers IS NULL THEN
        RETURN NULL;
    END IF;
    shown := array_to_string(writers[1:10], ', ')
             || CASE WHEN cardinality(writers) > 10
                     THEN format(' and %s more', cardinality(writers) - 10) ELSE '' END;
    listed := CASE WHEN cardinality(writers) > 10 THEN 'each of them' ELSE shown END;
    RAISE WARNING USING
        MESSAGE = CASE WHEN owner_trusted
                       THEN format('roles other than its owner may create objects in schema %s, '
                                   'which holds pgsession''s functions', target)
                       ELSE format('roles that are not superusers own or may create objects '
                                   'in schema %s, which holds pgsession''s functions', target) END,
        DETAIL = format('%s may. A function created there with the name of one of '
                        'pgsession''s and an argument type closer to a caller''s (such as '
                        'session_get(varchar)) is what that caller''s call runs, with the '
                        'caller''s privileges.', shown),
        HINT = format('Revoke the privilege (REVOKE CREATE ON SCHEMA %s FROM %s), or keep '
                      'pgsession in a schema of its own (CREATE SCHEMA pgsession_api; '
                      'CREATE EXTENSION pgsession SCHEMA pgsession_api).', target, listed);
    RETURN writers;
END
$$;
COMMENT ON FUNCTION pgsession.check_schema_writers(regnamespace) IS
'Returns the roles besides superusers (and the owner, when a superuser owns the schema; PUBLIC when every role) that may create objects in a schema, warning when there are any; run on the install schema by CREATE EXTENSION and the update';
REVOKE ALL ON FUNCTION pgsession.check_schema_writers(regnamespace) FROM PUBLIC;

SELECT pgsession.check_schema_writers('@extschema@');
