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
    access_token     text DEFAULT NULL
) RETURNS timestamptz
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_save';
COMMENT ON FUNCTION session_save(text, jsonb, text, interval, interval, text, text, text, text) IS
'Creates or replaces, whole, the session with this application-chosen id and returns its expiry; a live session keeps its created_at, and its idle timeout and absolute expiry unless given; an expired one is replaced as new';

-- section: session_update changes timeouts too
--
-- New arguments mean a new signature: the function is dropped and created again.  The
-- privileges granted or revoked on the 0.1.0 function (README "Privileges" shows how to
-- restrict it to an application's role) are kept: saved here, applied again below.
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
    absolute_timeout interval DEFAULT NULL
) RETURNS boolean
    LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'pgsession_update';
COMMENT ON FUNCTION session_update(text, text, text, text, text, text, jsonb, text[], interval, interval) IS
'Changes the given (non-NULL) fields of a live session, sets the fields named in clear to NULL, and changes its idle timeout and absolute timeout (measured from created_at; 0 for none) where given; records an access; returns whether a live session was updated (false for a malformed token)';

DO $$
DECLARE
    old_acl text := pg_catalog.current_setting('pgsession_upgrade.session_update_acl', true);
    fn pg_catalog.regprocedure :=
        'session_update(text, text, text, text, text, text, jsonb, text[], interval, interval)';
    item record;
BEGIN
    -- An empty ACL is the default one (EXECUTE for PUBLIC), which the new function has.
    IF old_acl IS NULL OR old_acl = '' THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    FOR item IN SELECT a.grantee, a.privilege_type, a.is_grantable
                  FROM pg_catalog.aclexplode(old_acl::pg_catalog.aclitem[]) AS a LOOP
        EXECUTE pg_catalog.format('GRANT %s ON FUNCTION %s TO %s%s', item.privilege_type, fn,
            CASE WHEN item.grantee = 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(item.grantee)) END,
            CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

-- section: the per-request functions pin name lookup in the library, not with a SET clause
--
-- (see the comment on the per-session functions in sql/pgsession--0.2.0.sql)
ALTER FUNCTION session_create(text, text, text, text, text, text, jsonb, interval, interval) RESET search_path;
ALTER FUNCTION session_touch(text) RESET search_path;
ALTER FUNCTION session_delete(text) RESET search_path;
ALTER FUNCTION session_rotate(text) RESET search_path;

-- section: malformed tokens read as unknown sessions; session_get's access rule
COMMENT ON FUNCTION session_get(text) IS
'Returns the live session with this token (no row when unknown, expired or malformed) and records the access at most once per pgsession.touch_interval and at least once per half idle timeout, never waiting for another writer; search_path is pinned by the library, not by a SET clause';
COMMENT ON FUNCTION session_touch(text) IS
'Records an access now and extends the idle expiry; returns the new expires_at, NULL when unknown, expired or malformed';
COMMENT ON FUNCTION session_delete(text) IS
'Removes the session with this token; returns whether it was live (false for a malformed token)';
COMMENT ON FUNCTION session_rotate(text) IS
'Gives a live session a new token and returns it (NULL when unknown, expired or malformed); the old token stops working at once; records an access';
