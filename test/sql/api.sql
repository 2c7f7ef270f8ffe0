-- Every SQL function on its happy path: create, get, touch, update, delete, rotate,
-- list, delete_by_sub, cleanup.
BEGIN;
SELECT plan(44);

-- create: generated tokens
SELECT session_create() AS tok \gset
SELECT is(length(:'tok'::text), 43, 'a generated token has 43 characters (256 bits, base64url)');
SELECT matches(:'tok'::text, '^[A-Za-z0-9_-]{43}$', 'a generated token is URL-safe');
SELECT isnt(session_create(), session_create(), 'two generated tokens differ');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256(convert_to(:'tok', 'UTF8'))),
          1::bigint, 'the session is stored under the SHA-256 digest of its token');
SELECT is((SELECT count(*) FROM pgsession.sessions s
           WHERE position(convert_to(:'tok', 'UTF8') IN s.id_hash) > 0
              OR s::text LIKE '%' || :'tok' || '%'),
          0::bigint, 'the token itself appears nowhere in the table');

-- create with every field, then get
SELECT session_create(nonce => 'n-1', state => 'param=value', code_verifier => 'verifier-1',
                      data => '{"return_to": "/home"}') AS login \gset
SELECT results_eq(
    format('SELECT nonce, state, access_token, code_verifier, sub, data FROM session_get(%L)', :'login'),
    $$VALUES ('n-1'::text, 'param=value'::text, NULL::text, 'verifier-1'::text, NULL::text, '{"return_to": "/home"}'::jsonb)$$,
    'session_get returns the fields given at create');
SELECT ok((SELECT created_at = statement_timestamp() - (statement_timestamp() - created_at)
             AND expires_at > created_at AND last_accessed_at = created_at
           FROM session_get(:'login')), 'created_at, expires_at and last_accessed_at are set');
SELECT is((SELECT expires_at - created_at FROM session_get(:'login')), interval '1 hour',
          'the idle timeout defaults to 1 hour');
SELECT is((SELECT absolute_expires_at - created_at FROM session_get(:'login')), interval '8 hours',
          'the absolute timeout defaults to 8 hours');
SELECT is((SELECT count(*) FROM session_get('unknown-token-0123456789')), 0::bigint,
          'an unknown token gives no row');
SELECT is((SELECT nonce FROM session_get('unknown-token-0123456789')), NULL::text,
          'an unknown token reads as NULL');

-- create with a supplied id and per-session timeouts
SELECT is(session_create(id => 'app-supplied-id-0001', sub => 'alice',
                         idle_timeout => '10 minutes', absolute_timeout => '2 hours'),
          'app-supplied-id-0001'::text, 'an application-supplied id is returned as the token');
SELECT is((SELECT expires_at - created_at FROM session_get('app-supplied-id-0001')), interval '10 minutes',
          'a per-session idle timeout is used');
SELECT is((SELECT absolute_expires_at - created_at FROM session_get('app-supplied-id-0001')), interval '2 hours',
          'a per-session absolute timeout is used');
SELECT is(session_create(id => 'app-supplied-id-0002', absolute_timeout => '0'), 'app-supplied-id-0002'::text,
          'absolute_timeout 0 is accepted');
SELECT is((SELECT absolute_expires_at FROM session_get('app-supplied-id-0002')), NULL::timestamptz,
          'absolute_timeout 0 means no absolute limit');
SELECT is((SELECT expires_at - created_at FROM session_get(session_create(idle_timeout => '2 hours', absolute_timeout => '30 minutes'))),
          interval '30 minutes', 'an absolute limit shorter than the idle timeout caps the first expiry');
SET LOCAL pgsession.idle_timeout = '5min';
SET LOCAL pgsession.absolute_timeout = 0;
SELECT session_create() AS tok5 \gset
SELECT is((SELECT expires_at - created_at FROM session_get(:'tok5')), interval '5 minutes',
          'pgsession.idle_timeout sets the default idle timeout');
SELECT is((SELECT absolute_expires_at FROM session_get(:'tok5')), NULL::timestamptz,
          'pgsession.absolute_timeout = 0 turns the absolute limit off');
RESET pgsession.idle_timeout;
RESET pgsession.absolute_timeout;

-- touch
SELECT pg_sleep(0.01);
SELECT ok(session_touch(:'login') > (SELECT created_at FROM pgsession.sessions WHERE id_hash = sha256(convert_to(:'login', 'UTF8'))) + interval '1 hour',
          'session_touch extends the expiry to now + idle timeout');
SELECT session_touch(:'login') AS touched \gset
SELECT is(:'touched'::timestamptz, (SELECT expires_at FROM session_get(:'login')),
          'session_touch returns the new expires_at');
SELECT ok((SELECT last_accessed_at > created_at FROM session_get(:'login')),
          'session_touch records the access');
SELECT is(session_touch('unknown-token-0123456789'), NULL::timestamptz, 'session_touch of an unknown token is NULL');

-- update
SELECT is(session_update(:'login', access_token => 'at-1', sub => 'alice',
                         clear => ARRAY['nonce', 'state', 'code_verifier']), true,
          'session_update of a live session returns true');
SELECT results_eq(
    format('SELECT nonce, state, access_token, code_verifier, sub, data FROM session_get(%L)', :'login'),
    $$VALUES (NULL::text, NULL::text, 'at-1'::text, NULL::text, 'alice'::text, '{"return_to": "/home"}'::jsonb)$$,
    'session_update changes the given fields, clears the listed ones and keeps the rest');
SELECT is(session_update(:'login', data => '{"theme": "dark"}'), true, 'data can be replaced');
SELECT is((SELECT data FROM session_get(:'login')), '{"theme": "dark"}'::jsonb, 'data is replaced whole');
SELECT is(session_update(:'login', clear => ARRAY['data']), true, 'data can be cleared');
SELECT is((SELECT data FROM session_get(:'login')), NULL::jsonb, 'cleared data reads as NULL');
SELECT is(session_update(:'login'), true, 'an update with nothing to change still finds the session');
SELECT is((SELECT access_token FROM session_get(:'login')), 'at-1', 'an empty update changes nothing');
SELECT is(session_update('unknown-token-0123456789', sub => 'x'), false, 'session_update of an unknown token is false');

-- list and delete_by_sub
SELECT is((SELECT count(*) FROM session_list('alice')), 2::bigint, 'session_list finds the live sessions of a user');
SELECT is((SELECT count(*) FROM session_list('nobody')), 0::bigint, 'session_list of an unknown user is empty');
SELECT columns_are('pgsession', 'session', ARRAY['nonce', 'state', 'access_token', 'code_verifier', 'sub', 'data',
                   'created_at', 'expires_at', 'last_accessed_at', 'absolute_expires_at'],
                   'the session type has the documented columns');

-- rotate
SELECT session_rotate(:'login') AS rotated \gset
SELECT matches(:'rotated'::text, '^[A-Za-z0-9_-]{43}$', 'session_rotate returns a new token');
SELECT is((SELECT count(*) FROM session_get(:'login')), 0::bigint, 'the old token stops working at once');
SELECT is((SELECT access_token FROM session_get(:'rotated')), 'at-1', 'the new token reaches the same session');
SELECT is(session_rotate(:'login'), NULL::text, 'rotating a token that no longer exists gives NULL');

-- delete
SELECT is(session_delete(:'rotated'), true, 'session_delete of a live session is true');
SELECT is(session_delete(:'rotated'), false, 'deleting it again is false');
SELECT is((SELECT count(*) FROM session_get(:'rotated')), 0::bigint, 'a deleted session is gone');
SELECT is(session_delete_by_sub('alice'), 1::bigint, 'session_delete_by_sub removes the user''s remaining session');
SELECT is((SELECT count(*) FROM session_list('alice')), 0::bigint, 'the user has no session left');

SELECT * FROM finish();
ROLLBACK;
