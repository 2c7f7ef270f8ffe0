-- Every bad input gets a clear error with the right SQLSTATE, and changes nothing.
BEGIN;
SELECT plan(78);
\ir lib/error_of.sql

SELECT session_create(id => 'existing-session-0001', nonce => 'kept', sub => 'bob') AS existing \gset
CREATE TEMP TABLE before_counts AS SELECT count(*) AS n FROM pgsession.sessions;

-- ids an application supplies: NULL, empty, too short, too long, not a cookie value,
-- duplicate
SELECT throws_ok($$SELECT session_create(id => '')$$, '22023', 'id must not be empty', 'create: empty id');
SELECT throws_ok($$SELECT session_create(id => 'short')$$, '22023', 'id is too short', 'create: id under 16 characters');
SELECT throws_ok($$SELECT session_create(id => repeat('a', 256))$$, '22001', 'id is too long', 'create: id over 255 characters');
SELECT lives_ok($$SELECT session_create(id => repeat('a', 255))$$, 'create: an id of exactly 255 characters is accepted');
SELECT lives_ok($$SELECT session_create(id => repeat('b', 16))$$, 'create: an id of exactly 16 characters is accepted');
SELECT throws_ok($$SELECT session_create(id => 'has a space in it 0123')$$, '22023',
                 'id is not a valid cookie value', 'create: id with a space');
SELECT throws_ok($$SELECT session_create(id => 'non-ascii-éééééééééé')$$, '22023',
                 'id is not a valid cookie value', 'create: id with non-ASCII characters');
-- what an id holds is checked before its length: 130 é are 260 bytes, but what is wrong
-- is the é, and a length is told in characters
SELECT is(pg_temp.error_of($$SELECT session_create(id => repeat('é', 130))$$),
          '22023: id is not a valid cookie value | Character 1 is not visible ASCII; a session id may hold visible ASCII characters except '
          || '''"'', '','', '';'' and ''\'' (RFC 6265 cookie-octet). | Generated tokens are base64url; an application-supplied id must be usable as a cookie value.',
          'create: an id of 130 é is not ASCII, whatever its length');
SELECT is(pg_temp.error_of($$SELECT session_save(repeat('a', 300) || 'é', '{}')$$),
          '22023: id is not a valid cookie value | Character 301 is not visible ASCII; a session id may hold visible ASCII characters except '
          || '''"'', '','', '';'' and ''\'' (RFC 6265 cookie-octet). | Generated tokens are base64url; an application-supplied id must be usable as a cookie value.',
          'save: an over-long id with an é is refused for the é, at its position in characters');
SELECT throws_ok($$SELECT session_create(id => repeat('é', 10))$$, '22023', 'id is not a valid cookie value',
                 'create: 10 é (20 bytes) are not too short but not ASCII');
SELECT is(pg_temp.error_of($$SELECT session_create(id => repeat('a', 256))$$),
          '22001: id is too long | It has 256 characters; a session id has at most 255.',
          'create: the length of an over-long id is told in characters');
SELECT is(pg_temp.error_of($$SELECT session_create(id => E'tab\there-0123456789')$$),
          '22023: id is not a valid cookie value | Character 4 is 0x09; a session id may hold visible ASCII characters except '
          || '''"'', '','', '';'' and ''\'' (RFC 6265 cookie-octet). | Generated tokens are base64url; an application-supplied id must be usable as a cookie value.',
          'create: a control character is named by its code');
SELECT throws_ok($$SELECT session_create(id => E'tab\there-0123456789')$$, '22023',
                 'id is not a valid cookie value', 'create: id with a control character');
SELECT throws_ok($$SELECT session_create(id => 'quote"in-the-id-0123')$$, '22023',
                 'id is not a valid cookie value', 'create: id with a double quote');
SELECT throws_ok($$SELECT session_create(id => 'comma,in-the-id-0123')$$, '22023',
                 'id is not a valid cookie value', 'create: id with a comma');
SELECT throws_ok($$SELECT session_create(id => 'semicolon;in-the-id-01')$$, '22023',
                 'id is not a valid cookie value', 'create: id with a semicolon');
SELECT throws_ok($$SELECT session_create(id => E'backslash\\in-the-id-01')$$, '22023',
                 'id is not a valid cookie value', 'create: id with a backslash');
SELECT lives_ok($$SELECT session_create(id => '!#$%&''()*+-./:<=>?@[]^_`{|}~0123')$$,
                'create: every other visible ASCII character is a cookie-octet');
SELECT throws_ok($$SELECT session_save('semicolon;in-the-id-01', '{}')$$, '22023',
                 'id is not a valid cookie value', 'save: id with a semicolon');
SELECT throws_ok($$SELECT session_save(NULL, '{}')$$, '22004', 'id must not be NULL', 'save: NULL id');
SELECT throws_ok($$SELECT session_save('short', '{}')$$, '22023', 'id is too short', 'save: id under 16 characters');
SELECT throws_ok($$SELECT session_create(id => 'existing-session-0001')$$, '23505',
                 'a live session with this id already exists', 'create: duplicate id of a live session');
SELECT is((SELECT nonce FROM session_get('existing-session-0001')), 'kept',
          'the duplicate create left the existing session as it was');

-- tokens to look up come from untrusted cookies: NULL is a caller's error, anything
-- malformed is an unknown session (no row, NULL, false), never an error
SELECT throws_ok($$SELECT * FROM session_get(NULL)$$, '22004', 'id must not be NULL', 'get: NULL id');
SELECT is((SELECT count(*) FROM session_get('')), 0::bigint, 'get: an empty token is no session');
SELECT is((SELECT count(*) FROM session_get(repeat('x', 100000))), 0::bigint, 'get: an oversized token is no session');
SELECT is((SELECT count(*) FROM session_get('existing-session-0001;')), 0::bigint, 'get: a token with a semicolon is no session');
SELECT is((SELECT count(*) FROM session_get(E'existing\x01session-0001')), 0::bigint, 'get: a token with a control character is no session');
SELECT is((SELECT count(*) FROM session_get('tiny')), 0::bigint, 'get: a token under 16 characters is no session');
SELECT throws_ok($$SELECT session_touch(NULL)$$, '22004', 'id must not be NULL', 'touch: NULL id');
SELECT is(session_touch('not a token at all'), NULL, 'touch: a malformed token is no session');
SELECT throws_ok($$SELECT session_update(NULL, nonce => 'x')$$, '22004', 'id must not be NULL', 'update: NULL id');
SELECT is(session_update('"quoted-token-0000001"', nonce => 'x'), false, 'update: a malformed token is no session');
SELECT throws_ok($$SELECT session_update('"quoted-token-0000001"', nonce => repeat('n', 256))$$, '22001',
                 'nonce is too long', 'update: a bad value is an error even for a malformed token');
SELECT throws_ok($$SELECT session_delete(NULL)$$, '22004', 'id must not be NULL', 'delete: NULL id');
SELECT is(session_delete('tiny'), false, 'delete: a token under 16 characters is no session');
SELECT is(session_delete(repeat('z', 256)), false, 'delete: an oversized token is no session');
SELECT throws_ok($$SELECT session_rotate(NULL)$$, '22004', 'id must not be NULL', 'rotate: NULL id');
SELECT is(session_rotate(''), NULL, 'rotate: an empty token is no session');
SELECT is((SELECT nonce FROM session_get('existing-session-0001')), 'kept',
          'no malformed token reached the existing session');

-- wrong types
SELECT throws_ok($$SELECT * FROM session_get(42)$$, '42883', NULL, 'get: an integer id is a wrong type');
SELECT throws_ok($$SELECT session_create(idle_timeout => 'soon')$$, '22007', NULL, 'create: a timeout that is not an interval');
SELECT throws_ok($$SELECT session_create(data => '{"unterminated": ')$$, '22P02', NULL, 'create: malformed JSON');
SELECT throws_ok($$SELECT session_update('existing-session-0001', data => 'not json')$$, '22P02', NULL, 'update: malformed JSON');

-- fields: over-long values and data that is not an object
SELECT throws_ok($$SELECT session_create(nonce => repeat('n', 256))$$, '22001', 'nonce is too long', 'create: nonce over 255 characters');
SELECT lives_ok($$SELECT session_create(nonce => repeat('é', 255))$$, 'create: limits count characters, not bytes');
SELECT throws_ok($$SELECT session_create(state => repeat('s', 2049))$$, '22001', 'state is too long', 'create: state over 2048 characters');
SELECT throws_ok($$SELECT session_create(code_verifier => repeat('v', 256))$$, '22001', 'code_verifier is too long', 'create: code_verifier over 255 characters');
SELECT throws_ok($$SELECT session_create(access_token => repeat('t', 16385))$$, '22001', 'access_token is too long', 'create: access_token over 16384 characters');
SELECT throws_ok($$SELECT session_create(sub => repeat('u', 256))$$, '22001', 'sub is too long', 'create: sub over 255 characters');
SELECT throws_ok($$SELECT session_create(data => jsonb_build_object('blob', repeat('x', 1100000)))$$, '22001',
                 'data is too large', 'create: data over 1 MiB');
SELECT throws_ok($$SELECT session_create(data => '[1, 2]')$$, '22023', 'data must be a JSON object', 'create: data that is an array');
SELECT throws_ok($$SELECT session_create(data => '"text"')$$, '22023', 'data must be a JSON object', 'create: data that is a scalar');
SELECT throws_ok($$SELECT session_update('existing-session-0001', nonce => 'changed', sub => repeat('u', 256))$$, '22001',
                 'sub is too long', 'update: an over-long field');
SELECT is((SELECT nonce FROM session_get('existing-session-0001')), 'kept',
          'a failed update changes none of the fields, not even the valid ones');

-- update: clear
SELECT throws_ok($$SELECT session_update('existing-session-0001', clear => ARRAY['password'])$$, '22023',
                 'cannot clear unknown field "password"', 'update: clearing an unknown field');
SELECT throws_ok($$SELECT session_update('existing-session-0001', clear => ARRAY[NULL])$$, '22004',
                 'clear must not contain NULL', 'update: NULL in clear');
SELECT throws_ok($$SELECT session_update('existing-session-0001', nonce => 'x', clear => ARRAY['nonce'])$$, '22023',
                 'field "nonce" is both given a value and cleared', 'update: a field both set and cleared');

-- timeouts
SELECT throws_ok($$SELECT session_create(idle_timeout => '0')$$, '22023', 'idle_timeout must be positive', 'create: zero idle timeout');
SELECT throws_ok($$SELECT session_create(idle_timeout => '-5 minutes')$$, '22023', 'idle_timeout must be positive', 'create: negative idle timeout');
SELECT throws_ok($$SELECT session_create(idle_timeout => interval '1 day' - interval '2 days')$$, '22023', 'idle_timeout must be positive', 'create: an interval that adds up to less than zero');
SELECT throws_ok($$SELECT session_create(idle_timeout => '2 years')$$, '22023', 'idle_timeout is longer than 365 days', 'create: absurd idle timeout');
-- the limit is 365 days, with a month as 30 days: '1 year' is 360 of them
SELECT lives_ok($$SELECT session_create(idle_timeout => '365 days')$$, 'create: an idle timeout of 365 days is accepted');
SELECT throws_ok($$SELECT session_create(idle_timeout => '365 days 1 second')$$, '22023', 'idle_timeout is longer than 365 days',
                 'create: a second more is not');
SELECT lives_ok($$SELECT session_create(absolute_timeout => '1 year 5 days')$$, 'create: ''1 year 5 days'' (365 days) is accepted');
SELECT is(pg_temp.error_of($$SELECT session_create(absolute_timeout => '1 year 6 days')$$),
          '22023: absolute_timeout is longer than 365 days | A month counts as 30 days here, so ''1 year'' is 360 days and ''1 year 5 days'' is the longest timeout.',
          'create: ''1 year 6 days'' is not, and the error says why');
SELECT throws_ok($$SELECT session_create(absolute_timeout => '-1 second')$$, '22023', 'absolute_timeout must be positive', 'create: negative absolute timeout');
SELECT throws_ok($$SELECT session_create(absolute_timeout => '400 days')$$, '22023', 'absolute_timeout is longer than 365 days', 'create: absurd absolute timeout');

-- by-sub functions and cleanup
SELECT throws_ok($$SELECT * FROM session_list(NULL)$$, '22004', 'sub must not be NULL', 'list: NULL sub');
SELECT throws_ok($$SELECT * FROM session_list('')$$, '22023', 'sub must not be empty', 'list: empty sub');
SELECT throws_ok($$SELECT session_delete_by_sub(NULL)$$, '22004', 'sub must not be NULL', 'delete_by_sub: NULL sub');
SELECT throws_ok($$SELECT session_cleanup(batch_size => 0)$$, '22023', 'batch_size must be between 1 and 1000000', 'cleanup: zero batch size');
SELECT throws_ok($$SELECT session_cleanup(max_batches => 0)$$, '22023', 'max_batches must be at least 1', 'cleanup: zero max_batches');

-- settings: bounds and the reserved prefix
SELECT throws_ok($$SET pgsession.idle_timeout = 0$$, '22023', NULL, 'setting: idle_timeout 0 is refused');
SELECT throws_ok($$SET pgsession.idle_timeout = '400d'$$, '22023', NULL, 'setting: idle_timeout over a year is refused');
SELECT throws_ok($$SET pgsession.touch_interval = -1$$, '22023', NULL, 'setting: negative touch_interval is refused');
SELECT throws_ok($$SET pgsession.no_such_setting = 1$$, '42602', NULL, 'setting: pgsession.* is a reserved prefix');

-- nothing was half-written: only the two valid creates above added rows
SELECT is((SELECT count(*) FROM pgsession.sessions), (SELECT n + 6 FROM before_counts),
          'failed calls added no session (the six that succeeded did)');

SELECT * FROM finish();
ROLLBACK;
