-- The session's fields as installed agree with the one list the library is built from,
-- extension/include/pgsession/fields.hpp: test/sql/lib/fields.sh compiles a program
-- against that header which prints the list, so nothing here restates it.  The table's
-- columns after id_hash and the result type's attributes are the fields in the list's
-- order, with its types; the functions take each field at the position the list gives
-- (the orders differ: fields.hpp says why); each field accepts a value at its limit and
-- refuses one past it.  The device metadata (fields.hpp's second list) likewise: the
-- table's last columns, after every other argument of the functions, not in the result
-- type.  Everything is rolled back.
BEGIN;
\set fields_json `bash test/sql/lib/fields.sh`
CREATE TEMP TABLE fields AS
SELECT f.ord::int AS ord, f.field->>'name' AS name, f.field->>'type' AS type,
       (f.field->>'limit')::int AS max, (f.field->>'arg')::int AS arg,
       (f.field->>'save_arg')::int AS save_arg
  FROM jsonb_array_elements(:'fields_json'::jsonb) WITH ORDINALITY AS f(field, ord);

\set devices_json `bash test/sql/lib/fields.sh devices`
CREATE TEMP TABLE devices AS
SELECT d.ord::int AS ord, d.device->>'name' AS name, d.device->>'type' AS type,
       (d.device->>'limit')::int AS max, (d.device->>'arg')::int AS arg,
       (d.device->>'update_arg')::int AS update_arg
  FROM jsonb_array_elements(:'devices_json'::jsonb) WITH ORDINALITY AS d(device, ord);

SELECT plan(13 + 2 * (SELECT count(*)::int FROM fields));

SELECT cmp_ok((SELECT count(*)::int FROM fields), '>', 0, 'fields.hpp lists the fields');

-- The columns of a relation from `first` on, as many as there are fields: "name type".
CREATE FUNCTION pg_temp.attributes(rel regclass, first int) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
      FROM (SELECT attname, atttypid, atttypmod, attnum FROM pg_attribute
             WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped
             ORDER BY attnum OFFSET first - 1 LIMIT (SELECT count(*) FROM fields)) a
$$;
-- The arguments of a function at the positions `column` of a list (fields or devices)
-- gives: "name type".
CREATE FUNCTION pg_temp.arguments(fn regprocedure, column_name text, list text DEFAULT 'fields')
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE result text[];
BEGIN
    EXECUTE format('SELECT array_agg(p.proargnames[f.%I] || '' '' || format_type(p.proargtypes[f.%I - 1], NULL)
                      ORDER BY f.ord) FROM %I f, pg_proc p WHERE p.oid = $1', column_name, column_name, list)
       INTO result USING fn;
    RETURN result;
END $$;
-- A list's entries: "name type".
CREATE FUNCTION pg_temp.listed(list text DEFAULT 'fields') RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE result text[];
BEGIN
    EXECUTE format('SELECT array_agg(name || '' '' || type ORDER BY ord) FROM %I', list) INTO result;
    RETURN result;
END $$;

SELECT is(pg_temp.attributes('pgsession.sessions', 2), pg_temp.listed(),
          'pgsession.sessions has the fields after id_hash, in the list''s order, with its types');
SELECT is(pg_temp.attributes('pgsession.session', 1), pg_temp.listed(),
          'pgsession.session (session_get''s rows) starts with the fields, in the list''s order');
SELECT is(pg_temp.arguments('session_create(text, text, text, text, text, text, jsonb, interval, interval, text, inet)', 'arg'),
          pg_temp.listed(), 'session_create takes each field where the list says');
SELECT is(pg_temp.arguments('session_update(text, text, text, text, text, text, jsonb, text[], interval, interval, text, inet)', 'arg'),
          pg_temp.listed(), 'session_update takes each field where the list says');
SELECT is(pg_temp.arguments('session_save(text, jsonb, text, interval, interval, text, text, text, text, text, inet)', 'save_arg'),
          pg_temp.listed(), 'session_save takes each field where the list says');

-- the device metadata
SELECT cmp_ok((SELECT count(*)::int FROM devices), '>', 0, 'fields.hpp lists the device metadata');
SELECT is((SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
             FROM (SELECT * FROM pg_attribute WHERE attrelid = 'pgsession.sessions'::regclass
                      AND attnum > 0 AND NOT attisdropped ORDER BY attnum DESC
                    LIMIT (SELECT count(*) FROM devices)) a),
          pg_temp.listed('devices'), 'pgsession.sessions ends with the device metadata, in the list''s order');
SELECT is((SELECT count(*)::int FROM pg_attribute a JOIN devices d ON d.name = a.attname
            WHERE a.attrelid = 'pgsession.session'::regclass), 0,
          'pgsession.session (session_get''s rows) has none of it');
SELECT is(pg_temp.arguments('session_create(text, text, text, text, text, text, jsonb, interval, interval, text, inet)', 'arg', 'devices'),
          pg_temp.listed('devices'), 'session_create takes the device metadata where the list says');
SELECT is(pg_temp.arguments('session_save(text, jsonb, text, interval, interval, text, text, text, text, text, inet)', 'arg', 'devices'),
          pg_temp.listed('devices'), 'and session_save');
SELECT is(pg_temp.arguments('session_update(text, text, text, text, text, text, jsonb, text[], interval, interval, text, inet)', 'update_arg', 'devices'),
          pg_temp.listed('devices'), 'and session_update');
SELECT is((SELECT array_agg(p.pronargs::int ORDER BY p.oid::regprocedure::text) FROM pg_proc p
            WHERE p.proname IN ('session_create', 'session_save', 'session_update')
              AND p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'pgsession')),
          (SELECT array_agg(n ORDER BY f) FROM (VALUES ('session_create', (SELECT max(arg) FROM devices)),
                                                       ('session_save', (SELECT max(arg) FROM devices)),
                                                       ('session_update', (SELECT max(update_arg) FROM devices))) AS v(f, n)),
          'and it is their last arguments');

-- A value of the field's type exactly `size` long: characters for text, bytes of jsonb
-- for jsonb (an object with one string, padded to the size).
CREATE FUNCTION pg_temp.value_of(type text, size int) RETURNS text LANGUAGE sql AS $$
    SELECT CASE type
        WHEN 'text' THEN format('repeat(%L, %s)', 'x', size)
        WHEN 'jsonb' THEN format('jsonb_build_object(%L, repeat(%L, %s))', 'k', 'x',
                                 size - pg_column_size(jsonb_build_object('k', '')))
    END
$$;
SELECT lives_ok(format('SELECT session_create(%I => %s)', name, pg_temp.value_of(type, max)),
                format('%s takes a value at its limit (%s)', name, max))
  FROM fields ORDER BY ord;
SELECT throws_ok(format('SELECT session_create(%I => %s)', name, pg_temp.value_of(type, max + 1)),
                 '22001', NULL, format('%s refuses a value past its limit', name))
  FROM fields ORDER BY ord;

SELECT * FROM finish();
ROLLBACK;
