-- A caller's search_path cannot make pgsession's SECURITY DEFINER functions run the
-- caller's code: operators planted in a schema ahead of pg_catalog are never called,
-- neither by the functions with a SET search_path clause nor by the per-request ones
-- (session_create, session_save, session_get, ...), which pin name lookup in the library
-- instead.  This file runs first in its backend, so every
-- statement pgsession prepares is prepared here, under the hostile search_path.
BEGIN;
SELECT plan(8);

CREATE SCHEMA hostile;
CREATE TABLE hostile.calls (op text, by_user name);
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
GRANT ALL ON hostile.calls TO PUBLIC;
CREATE FUNCTION hostile.spy_eq(bytea, bytea) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO hostile.calls VALUES ('=', current_user); RETURN pg_catalog.byteaeq($1, $2); END$$;
CREATE FUNCTION hostile.spy_gt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO hostile.calls VALUES ('>', current_user); RETURN pg_catalog.timestamptz_gt($1, $2); END$$;
CREATE FUNCTION hostile.spy_plus(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO hostile.calls VALUES ('+', current_user); RETURN pg_catalog.timestamptz_pl_interval($1, $2); END$$;
CREATE OPERATOR hostile.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = hostile.spy_eq);
CREATE OPERATOR hostile.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.spy_gt);
CREATE OPERATOR hostile.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = hostile.spy_plus);
CREATE ROLE pgsession_test_caller NOLOGIN;
GRANT ALL ON __tcache__, __tcache___id_seq, __tresults___numb_seq TO pgsession_test_caller;

SET ROLE pgsession_test_caller;
SET LOCAL search_path = hostile, pg_catalog, public;
SET LOCAL pgsession.touch_interval = 0;  -- every session_get records the access (runs SQL)
SELECT 'x'::bytea = 'x'::bytea AS planted_eq \gset
SELECT is((SELECT count(*) FROM hostile.calls), 1::bigint, 'the planted = operator captures the caller''s own queries');
DELETE FROM hostile.calls;

SELECT public.session_create(sub => 'erin') AS tok \gset
SELECT ok(public.session_save('saved-under-hostile-path', '{}', sub => 'erin') IS NOT NULL, 'session_save works under it');
SELECT is((SELECT count(*) FROM public.session_get(:'tok')), 1::bigint, 'session_get works under the hostile search_path');
SELECT ok(public.session_touch(:'tok') IS NOT NULL, 'session_touch works under it');
SELECT is(public.session_update(:'tok', nonce => 'n'), true, 'session_update works under it');
SELECT public.session_rotate(:'tok') AS tok2 \gset
SELECT is(public.session_delete(:'tok2'), true, 'session_rotate and session_delete work under it');
SELECT is((SELECT count(*) FROM public.session_get(:'tok2')), 0::bigint, 'and the session is gone');
RESET ROLE;
SELECT is((SELECT count(*) FROM hostile.calls), 0::bigint, 'no planted operator ran inside pgsession''s functions');

SELECT * FROM finish();
ROLLBACK;
