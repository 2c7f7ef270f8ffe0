-- The library never misreads a table or result type it was not built for: a backend that
-- has served sessions sees pgsession.session or pgsession.sessions change (as an upgrade
-- script or a careless superuser would change them) and maps the new layout by name, or
-- refuses it with a clear error, never returning wrong bytes.  Everything is rolled back.
BEGIN;
SELECT plan(13);
SELECT session_create(id => 'layout-session-0001', nonce => 'the nonce', state => 'the state',
                      sub => 'the sub', data => '{"k": "v"}') AS tok \gset
SELECT is((SELECT nonce || '/' || state || '/' || sub FROM session_get(:'tok')), 'the nonce/the state/the sub',
          'the backend has served the session with the layout it knows');

-- a result type with an attribute the table does not have
ALTER TYPE pgsession.session ADD ATTRIBUTE device text;
SELECT throws_ok(format('SELECT * FROM session_get(%L)', :'tok'), '55000',
                 'the result type of a pgsession function does not match what the library returns',
                 'a result type attribute without a column is refused with a clear error');
CREATE FUNCTION pg_temp.detail_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE query;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;
SELECT is(pg_temp.detail_of(format('SELECT * FROM session_get(%L)', :'tok')),
          'Attribute "device" is not a column of pgsession.sessions.', 'the detail says which attribute');

-- the table gains the column: the new attribute is read from it, the others stay right
ALTER TABLE pgsession.sessions ADD COLUMN device text DEFAULT 'laptop';
SELECT is((SELECT nonce || '/' || state || '/' || sub || '/' || device FROM session_get(:'tok')),
          'the nonce/the state/the sub/laptop', 'a new attribute with a matching column is read by name');
SELECT is((SELECT data FROM session_get(:'tok')), '{"k": "v"}'::jsonb, 'and the attributes after it are right');

-- an attribute dropped from the result type reads as nothing, the rest by name
ALTER TYPE pgsession.session DROP ATTRIBUTE state;
SELECT is((SELECT nonce || '/' || sub || '/' || device FROM session_get(:'tok')), 'the nonce/the sub/laptop',
          'a dropped attribute shifts nothing');
SELECT is((SELECT data FROM session_get(:'tok')), '{"k": "v"}'::jsonb, 'data is still data');

-- a type that disagrees with the column's
ALTER TYPE pgsession.session ALTER ATTRIBUTE nonce TYPE varchar(50);
SELECT throws_ok(format('SELECT * FROM session_get(%L)', :'tok'), '55000', NULL,
                 'an attribute whose type differs from its column''s is refused');
ALTER TYPE pgsession.session ALTER ATTRIBUTE nonce TYPE text;
SELECT is((SELECT nonce FROM session_get(:'tok')), 'the nonce', 'and read again once the types agree');

-- the table's column changes type: refused, not misread
ALTER TABLE pgsession.sessions ALTER COLUMN sub TYPE varchar(255);
SELECT throws_ok(format('SELECT * FROM session_get(%L)', :'tok'), '55000', NULL,
                 'a column whose type changed under the backend is refused');
ALTER TABLE pgsession.sessions ALTER COLUMN sub TYPE text;
SELECT is((SELECT sub FROM session_get(:'tok')), 'the sub', 'and read again once it is back');

-- a recorded access (the SPI path) reads the row back through the same mapping
SET LOCAL pgsession.touch_interval = 0;
SELECT is((SELECT nonce || '/' || device FROM session_get(:'tok')), 'the nonce/laptop',
          'a recorded access returns the row in the changed layout too');
-- session_list's result is checked the same way
SELECT is((SELECT count(*) FROM session_list('the sub')), 1::bigint, 'session_list still works');
SELECT * FROM finish();
ROLLBACK;
