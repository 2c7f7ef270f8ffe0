-- pgsession 0.2.0: durable, expiring web sessions.
\echo Use "CREATE EXTENSION pgsession" to load this file. \quit

-- section: internal schema
--
-- The table lives in a schema of its own, named after the extension (PostgreSQL
-- reserves the pg_ prefix), so that it never clashes with an application's own
-- "sessions" table.  The SQL functions are installed into the schema chosen at
-- CREATE EXTENSION.  Ordinary roles get USAGE (to name the result type) and nothing on
-- the table.
CREATE SCHEMA pgsession;
COMMENT ON SCHEMA pgsession IS 'pgsession internals: the sessions table and its types; use the session_* functions instead of the table';
GRANT USAGE ON SCHEMA pgsession TO PUBLIC;

-- section: sessions table
CREATE TABLE pgsession.sessions (
    -- SHA-256 digest of the session token.  The token itself is never stored, so the
    -- table, a dump or a replica cannot be used to resume anybody's session (the other
    -- columns are stored as given: an access_token is a live bearer token).
    -- session_get reads the table directly as its owner: row level security on it would
    -- not apply there, so the table must not use it.
    id_hash             bytea PRIMARY KEY,
    nonce               text,
    state               text,
    access_token        text,
    code_verifier       text,
    sub                 text,
    data                jsonb,
    created_at          timestamptz NOT NULL,
    last_accessed_at    timestamptz NOT NULL,
    -- When the session expires: the earlier of last_accessed_at + idle_timeout and
    -- absolute_expires_at.  Recording an access only moves it forward; a save or an
    -- update that shortens a timeout may move it back (and cleanup_after with it).
    expires_at          timestamptz NOT NULL,
    idle_timeout        interval NOT NULL,
    -- created_at + the absolute timeout; NULL when the session has no absolute limit.
    absolute_expires_at timestamptz,
    -- A lower bound of expires_at, and the only expiry column that is indexed.
    --
    -- Why not index expires_at?  On PostgreSQL 15 an update that writes any indexed
    -- column cannot be HOT, and recording an access (session_get, session_touch) writes
    -- expires_at.  A busy session would then add an index entry per recorded access and
    -- bloat the index.  cleanup_after is set to expires_at at creation and left alone by
    -- every access, so recording one writes only unindexed columns and stays HOT
    -- (fillfactor below leaves the room on the page).  Since expires_at never moves
    -- back (and when a save or an update of the timeouts moves it back, cleanup_after
    -- follows it down), every expired session has cleanup_after <= now(): the cleanup finds them all
    -- through this index, deletes those whose expires_at has passed, and moves
    -- cleanup_after up to expires_at for the few that were touched since, so each
    -- active session costs the cleanup one index update per timeout, not one per access.
    cleanup_after       timestamptz NOT NULL,
    -- The name of the session in a list of a user's sessions (session_list), by which one
    -- of them is ended (session_delete_by_handle): random, never derived from the token,
    -- the same across session_rotate, and useless to session_get.  Not indexed: a handle
    -- is looked up among the sessions of one user, through sessions_sub_idx.
    handle              uuid NOT NULL DEFAULT gen_random_uuid(),
    -- The device the session was created from, as the application passes it (the
    -- User-Agent header, the client's address): shown by session_list, never checked.
    user_agent          text,
    ip                  inet
    -- No CHECK constraints: the functions are the only writers and check every value
    -- before writing it.  PostgreSQL rebuilds a table's CHECK expressions from their
    -- stored text in every statement that writes it, and every pgsession write is a
    -- one-row statement: five checks cost as much as the rest of the INSERT (22.7
    -- against 11.5 microseconds per row, bench/README.md figure 4).
) WITH (fillfactor = 80);

COMMENT ON TABLE pgsession.sessions IS 'Web sessions, keyed by the SHA-256 digest of their token; read and write them through the session_* functions';
COMMENT ON COLUMN pgsession.sessions.id_hash IS 'SHA-256 digest of the session token (the token is never stored)';
COMMENT ON COLUMN pgsession.sessions.nonce IS 'OpenID Connect nonce of the login in progress';
COMMENT ON COLUMN pgsession.sessions.state IS 'OAuth 2.0 state of the login in progress';
COMMENT ON COLUMN pgsession.sessions.access_token IS 'Access token obtained at login';
COMMENT ON COLUMN pgsession.sessions.code_verifier IS 'PKCE code_verifier of the login in progress';
COMMENT ON COLUMN pgsession.sessions.sub IS 'Subject (user id) the session belongs to, once logged in';
COMMENT ON COLUMN pgsession.sessions.data IS 'Anything else the application keeps in the session (a JSON object)';
COMMENT ON COLUMN pgsession.sessions.created_at IS 'When the session was created';
COMMENT ON COLUMN pgsession.sessions.last_accessed_at IS 'Last recorded access (recorded at most once per pgsession.touch_interval by session_get)';
COMMENT ON COLUMN pgsession.sessions.expires_at IS 'When the session expires unless accessed again';
COMMENT ON COLUMN pgsession.sessions.idle_timeout IS 'Idle timeout of this session';
COMMENT ON COLUMN pgsession.sessions.absolute_expires_at IS 'Absolute expiry of this session, NULL when it has none';
COMMENT ON COLUMN pgsession.sessions.cleanup_after IS 'Lower bound of expires_at used by the cleanup; indexed instead of expires_at so that recording an access is a HOT update';
COMMENT ON COLUMN pgsession.sessions.handle IS 'Random name of the session for session_list and session_delete_by_handle; stable across rotation, never a token';
COMMENT ON COLUMN pgsession.sessions.user_agent IS 'User agent of the device the session belongs to, as the application gave it (at most 512 characters)';
COMMENT ON COLUMN pgsession.sessions.ip IS 'Address of the device the session belongs to, as the application gave it';

REVOKE ALL ON TABLE pgsession.sessions FROM PUBLIC;
COMMENT ON INDEX pgsession.sessions_pkey IS 'Looks a session up by the digest of its token';

-- The cleanup index (see cleanup_after above).  No index on id_hash besides the
-- primary key: the original design's idx_sessions_id duplicated it.
CREATE INDEX sessions_cleanup_after_idx ON pgsession.sessions (cleanup_after);
COMMENT ON INDEX pgsession.sessions_cleanup_after_idx IS 'Finds sessions due for cleanup; see the comment on cleanup_after';

-- A user's sessions, for session_list and session_delete_by_sub.  Partial: sessions
-- before login have no sub.  Setting sub (once, at login) is the only non-HOT update
-- of a session's life besides the cleanup's and rotation.
CREATE INDEX sessions_sub_idx ON pgsession.sessions (sub) WHERE sub IS NOT NULL;
COMMENT ON INDEX pgsession.sessions_sub_idx IS 'Finds the sessions of a user (session_list, session_delete_by_sub, session_delete_by_handle)';

-- Include the table's rows in pg_dump output of the extension: sessions survive a dump
-- and restore (and the dump holds their access tokens; protect it accordingly).
SELECT pg_catalog.pg_extension_config_dump('pgsession.sessions', '');

-- section: result type
CREATE TYPE pgsession.session AS (
    nonce               text,
    state               text,
    access_token        text,
    code_verifier       text,
    sub                 text,
    data                jsonb,
    created_at          timestamptz,
    expires_at          timestamptz,
    last_accessed_at    timestamptz,
    absolute_expires_at timestamptz
);
COMMENT ON TYPE pgsession.session IS 'A live session as session_get returns it';

-- section: per-session functions (EXECUTE for every role; see README "Privileges")
--
-- All functions are SECURITY DEFINER so that callers need no privilege on the table,
-- with name lookup pinned so that, inside them, no object of the caller's can stand in
-- for ours (which function a call reaches is another matter: see the last section).  The
-- functions an application calls on every request (these, written in C) have no SET
-- search_path clause: applying one costs several percent of a call (bench/README.md,
-- figures 1 and 9).  They need none: they resolve no name outside the statements they
-- run, and the library runs every statement with pg_catalog as the only schema searched
-- (test/sql/search_path.sql checks that a caller's operators cannot take part).  Every
-- other SECURITY DEFINER function has the clause.

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

-- session_get's usual path reads the index directly and resolves no name at all.
CREATE FUNCTION session_get(id text) RETURNS SETOF pgsession.session
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER ROWS 1
    AS 'MODULE_PATHNAME', 'pgsession_get';
COMMENT ON FUNCTION session_get(text) IS
'Returns the live session with this token (no row when unknown, expired or malformed) and records the access at most once per pgsession.touch_interval and at least once per half idle timeout, never waiting for another writer; search_path is pinned by the library, not by a SET clause';

CREATE FUNCTION session_touch(id text) RETURNS timestamptz
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_touch';
COMMENT ON FUNCTION session_touch(text) IS
'Records an access now and extends the idle expiry; returns the new expires_at, NULL when unknown, expired or malformed';

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

CREATE FUNCTION session_delete(id text) RETURNS boolean
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_delete';
COMMENT ON FUNCTION session_delete(text) IS
'Removes the session with this token; returns whether it was live (false for a malformed token); notifies pgsession.notify_channel at commit';

CREATE FUNCTION session_rotate(id text) RETURNS text
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_rotate';
COMMENT ON FUNCTION session_rotate(text) IS
'Gives a live session a new token and returns it (NULL when unknown, expired or malformed); the old token stops working at once (notified on pgsession.notify_channel at commit); the handle stays; records an access';

-- section: administrative functions (no EXECUTE for PUBLIC; grant where needed)

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

-- keep is the token of the session to keep (the caller's own: "log out the other
-- devices").  It is untrusted input like any token: one that is malformed, unknown or of
-- another user's session keeps nothing.
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

CREATE FUNCTION session_cleanup(batch_size integer DEFAULT NULL, max_batches integer DEFAULT NULL)
RETURNS bigint
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pgsession_cleanup';
COMMENT ON FUNCTION session_cleanup(integer, integer) IS
'Removes expired sessions now, in batches of batch_size (default pgsession.cleanup_batch_size), at most max_batches batches (default: until none is left); returns how many';

CREATE FUNCTION pgsession.cleanup_batch(
    batch_size          integer DEFAULT NULL,
    OUT examined        bigint,
    OUT removed         bigint,
    OUT used_batch_size integer
)
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pgsession_cleanup_batch';
COMMENT ON FUNCTION pgsession.cleanup_batch(integer) IS
'One cleanup batch, for session_cleanup_in_batches: sessions examined (locked), expired sessions removed, and the batch size used';

-- A procedure, not a function, so that it can commit after each batch: locks are
-- held for one batch at a time, however many expired sessions there are.  Neither
-- SECURITY DEFINER nor with a SET clause (a procedure with either cannot commit): it runs
-- as the caller, who needs EXECUTE on pgsession.cleanup_batch too, and names everything
-- schema-qualified.  It stops after the first batch that was not full: a full batch may
-- have been live sessions only (rescheduled, nothing removed) with more due behind it.
CREATE PROCEDURE session_cleanup_in_batches(batch_size integer DEFAULT NULL)
    LANGUAGE plpgsql
AS $$
DECLARE
    batch record;
    total bigint := 0;
BEGIN
    LOOP
        -- A lost commit of a batch only leaves its sessions for the next run, so no
        -- batch waits for a WAL flush (the setting ends with each transaction).
        PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
        SELECT * INTO batch FROM pgsession.cleanup_batch(batch_size);
        total := total OPERATOR(pg_catalog.+) batch.removed;
        COMMIT;
        EXIT WHEN batch.examined OPERATOR(pg_catalog.<) batch.used_batch_size;
    END LOOP;
    RAISE DEBUG 'pgsession: removed % expired sessions', total;
END
$$;
COMMENT ON PROCEDURE session_cleanup_in_batches(integer) IS
'Removes expired sessions one batch per transaction (CALL it outside an explicit transaction block; needs EXECUTE on pgsession.cleanup_batch)';

REVOKE ALL ON FUNCTION session_list(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION session_delete_by_sub(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION session_delete_by_handle(text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION session_cleanup(integer, integer) FROM PUBLIC;
REVOKE ALL ON PROCEDURE session_cleanup_in_batches(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgsession.cleanup_batch(integer) FROM PUBLIC;

-- section: cleanup worker and scheduling
--
-- With shared_preload_libraries = 'pgsession' a background worker removes expired
-- sessions every pgsession.cleanup_interval and keeps its state in shared memory;
-- session_stats() shows that state next to the session counts.  Without the preload,
-- session_schedule_cleanup() has pg_cron run session_cleanup_in_batches() instead, one
-- batch per transaction like the worker.  None of these functions is executable by PUBLIC.

CREATE FUNCTION pgsession.cleanup_worker_state(
    OUT worker_pid           integer,
    OUT last_run_started_at  timestamptz,
    OUT last_run_finished_at timestamptz,
    OUT last_run_result      text,
    OUT last_run_removed     bigint,
    OUT removed_since_start  bigint,
    OUT next_run_at          timestamptz
) RETURNS record
    LANGUAGE c VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'pgsession_cleanup_worker_state';
COMMENT ON FUNCTION pgsession.cleanup_worker_state() IS
'The cleanup worker''s shared-memory state for the current database (used by session_stats)';
REVOKE ALL ON FUNCTION pgsession.cleanup_worker_state() FROM PUBLIC;

-- Counting reads the whole table: this is a monitoring call, not one for every request.
CREATE FUNCTION session_stats(
    OUT live_sessions        bigint,
    OUT expired_sessions     bigint,
    OUT worker_pid           integer,
    OUT last_run_started_at  timestamptz,
    OUT last_run_finished_at timestamptz,
    OUT last_run_result      text,
    OUT last_run_removed     bigint,
    OUT removed_since_start  bigint,
    OUT next_run_at          timestamptz
) RETURNS record
    LANGUAGE sql VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT c.live, c.expired, w.worker_pid, w.last_run_started_at, w.last_run_finished_at,
           w.last_run_result, w.last_run_removed, w.removed_since_start, w.next_run_at
      FROM (SELECT count(*) FILTER (WHERE expires_at > statement_timestamp()) AS live,
                   count(*) FILTER (WHERE expires_at <= statement_timestamp()) AS expired
              FROM pgsession.sessions) AS c,
           pgsession.cleanup_worker_state() AS w
$$;
COMMENT ON FUNCTION session_stats() IS
'Live and expired-but-not-yet-removed sessions, and the cleanup worker''s last run in this database (started, finished, result, sessions removed), sessions it removed since the server started and its next run';
REVOKE ALL ON FUNCTION session_stats() FROM PUBLIC;

-- The command the pg_cron job runs.  The procedure is named with its schema, and its
-- argument by name and type: a procedure of the same name that someone created beside it
-- with no argument (or any other) cannot capture the call, since ours matches it exactly.
-- (One with the same argument and more, defaulted, would make it ambiguous, 42725: keep
-- others from creating objects in that schema; see pgsession.check_schema_writers.)
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

-- pg_cron keeps its jobs in the one database named by cron.database_name; the schedule
-- functions work in that database.  Elsewhere they fail with the call to make there.
--
-- pg_cron is the extension itself, not objects named like its own: any role that may
-- create a schema (a database's owner can) can create a schema cron with a function
-- schedule(text, text, text) in it, which a superuser scheduling the cleanup would then
-- run.  So the extension must be installed here by a superuser, and its schema (cron),
-- schedule(text, text, text), unschedule(bigint) and job table must be members of it
-- (pg_depend, deptype 'e') owned by superusers.  The callers name those objects with the
-- schema found here and the exact argument types of the members, which no other
-- function can match better.
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

-- SECURITY INVOKER: the job is the caller's, runs as the caller, and needs the caller's
-- EXECUTE on session_cleanup_in_batches and pgsession.cleanup_batch.  pg_cron 1.4 schedules
-- whole minutes in cron syntax, so the interval must divide an hour or a day evenly;
-- anything else is refused rather than run at uneven times, and before pg_cron is looked
-- for: a bad argument is the first thing to fix.
CREATE FUNCTION session_schedule_cleanup(every interval DEFAULT '15 minutes') RETURNS bigint
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

CREATE FUNCTION session_unschedule_cleanup() RETURNS boolean
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

-- section: the schema the functions are installed in
--
-- Inside pgsession's functions name lookup is pinned, but a call is resolved before it
-- reaches them, with the caller's search_path and argument types.  A role that may create
-- objects in the schema holding them can put a function of the same name beside one, with
-- an argument type closer to what a caller passes: session_get(varchar) beside
-- session_get(text) is what SELECT * FROM session_get($1::varchar) runs (pgjdbc binds
-- strings as varchar), with the caller's privileges.  Only the schema's privileges can
-- prevent that, so CREATE EXTENSION and the update warn when roles other than the schema's
-- owner (and its members) and superusers may create objects there.  They warn rather than
-- refuse: the privileges are the administrator's to set, and PostgreSQL before 15 gave
-- every role CREATE on public, which pg_upgrade keeps; refusing would stop an upgrade
-- that changes nothing about that.
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
