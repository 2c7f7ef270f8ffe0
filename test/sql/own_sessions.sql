-- A user's own sessions: each has a handle (random, stable across rotation, useless as a
-- token) and the device it was created from, which session_list shows; one of them ends
-- by its handle (session_delete_by_handle), the others by session_delete_by_sub's keep.
-- Everything is rolled back.
BEGIN;
\ir lib/error_of.sql
SELECT plan(47);

CREATE FUNCTION pg_temp.handle_of(token text) RETURNS uuid LANGUAGE sql AS $$
    SELECT handle FROM pgsession.sessions WHERE id_hash = sha256(convert_to(token, 'UTF8'))
$$;
CREATE FUNCTION pg_temp.live(token text) RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM session_get(token))
$$;

-- handles
SELECT session_create(sub => 'own-alice', user_agent => 'Firefox/120', ip => '192.0.2.7') AS a1 \gset
SELECT session_create(sub => 'own-alice') AS a2 \gset
SELECT session_create(sub => 'own-bob') AS b1 \gset
SELECT ok(pg_temp.handle_of(:'a1') IS NOT NULL AND pg_temp.handle_of(:'a2') IS NOT NULL,
          'every session has a handle');
SELECT isnt(pg_temp.handle_of(:'a1'), pg_temp.handle_of(:'a2'), 'two sessions have different handles');
SELECT pg_temp.handle_of(:'a1') AS a1_handle \gset
SELECT session_rotate(:'a1') AS a1r \gset
SELECT is(pg_temp.handle_of(:'a1r'), :'a1_handle'::uuid, 'a rotated session keeps its handle');
SELECT is((SELECT count(*) FROM session_get(:'a1_handle')), 0::bigint,
          'a handle is not a token: session_get of it finds no session');
SELECT is(session_touch(:'a1_handle'), NULL, 'nor does session_touch');
SELECT is(session_delete(:'a1_handle'), false, 'nor session_delete');
SELECT session_create(id => 'own-supplied-id-0001') AS s1 \gset
SELECT pg_temp.handle_of(:'s1') AS s1_handle \gset
SELECT session_delete(:'s1') AS ignored \gset
SELECT session_create(id => 'own-supplied-id-0001') AS s1 \gset
SELECT isnt(pg_temp.handle_of(:'s1'), :'s1_handle'::uuid,
            'the same token created again gets another handle (never derived from the token)');
SELECT results_eq(
    $$SELECT handle, user_agent, ip FROM session_list('own-alice')$$,
    format($$VALUES (%L::uuid, 'Firefox/120'::text, '192.0.2.7'::inet), (%L::uuid, NULL, NULL)$$,
           :'a1_handle', pg_temp.handle_of(:'a2')),
    'session_list returns each session''s handle and device, oldest first');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FILTER (WHERE attname IN ('handle', 'user_agent', 'ip'))
             FROM pg_attribute WHERE attrelid = 'pgsession.session'::regclass AND attnum > 0),
          NULL, 'session_get''s rows carry neither the handle nor the device');

-- session_delete_by_handle
SELECT is(session_delete_by_handle('own-bob', :'a1_handle'), false,
          'another user''s handle: false');
SELECT ok(pg_temp.live(:'a1r'), 'and that session is still there');
SELECT is(session_delete_by_handle('own-alice', gen_random_uuid()), false, 'an unknown handle: false');
SELECT is(session_delete_by_handle('own-alice', :'a1_handle'), true, 'the user''s own handle: true');
SELECT ok(NOT pg_temp.live(:'a1r'), 'and the session is gone');
SELECT ok(pg_temp.live(:'a2') AND pg_temp.live(:'b1'), 'the user''s other session and others'' stay');
SELECT is(session_delete_by_handle('own-alice', :'a1_handle'), false, 'a second time: false');
SELECT session_create(sub => 'own-alice', idle_timeout => '1 second') AS old \gset
SELECT pg_temp.handle_of(:'old') AS old_handle \gset
UPDATE pgsession.sessions SET expires_at = now() - interval '1 second'
 WHERE id_hash = sha256(convert_to(:'old', 'UTF8'));
SELECT is(session_delete_by_handle('own-alice', :'old_handle'), false,
          'an expired session''s handle: false (it was not live)');
SELECT is(pg_temp.handle_of(:'old'), NULL, 'and it is removed all the same');
SELECT throws_ok($$SELECT session_delete_by_handle(NULL, gen_random_uuid())$$, '22004',
                 'sub must not be NULL', 'delete_by_handle: NULL sub');
SELECT throws_ok($$SELECT session_delete_by_handle('own-alice', NULL)$$, '22004',
                 'handle must not be NULL', 'delete_by_handle: NULL handle');
SELECT throws_ok($$SELECT session_delete_by_handle('', gen_random_uuid())$$, '22023',
                 'sub must not be empty', 'delete_by_handle: empty sub');
SELECT throws_ok($$SELECT session_delete_by_handle('own-alice', 'not-a-uuid')$$, '22P02', NULL,
                 'delete_by_handle: a handle that is not a uuid is refused by its cast');

-- session_delete_by_sub's keep
SELECT session_create(sub => 'own-carol') AS c1 \gset
SELECT session_create(sub => 'own-carol') AS c2 \gset
SELECT session_create(sub => 'own-carol') AS c3 \gset
SELECT is(session_delete_by_sub('own-carol', keep => :'c2'), 2::bigint,
          'keep: the other sessions are removed and counted');
SELECT ok(pg_temp.live(:'c2') AND NOT pg_temp.live(:'c1') AND NOT pg_temp.live(:'c3'),
          'and the kept one stays');
SELECT session_create(sub => 'own-carol') AS c4 \gset
SELECT is(session_delete_by_sub('own-carol', keep => :'b1'), 2::bigint,
          'keep naming another user''s session keeps none of this user''s');
SELECT ok(pg_temp.live(:'b1'), 'and does not remove that other session');
SELECT session_create(sub => 'own-carol') AS c5 \gset
SELECT is(session_delete_by_sub('own-carol', keep => 'not a token'), 1::bigint,
          'a malformed keep keeps nothing, and is no error');
SELECT session_create(sub => 'own-carol') AS c6 \gset
SELECT is(session_delete_by_sub('own-carol', keep => 'unknown-token-00000001'), 1::bigint,
          'an unknown keep keeps nothing');
SELECT session_create(sub => 'own-carol') AS c7 \gset
SELECT is(session_delete_by_sub('own-carol', NULL), 1::bigint, 'keep NULL: log out everywhere');
SELECT throws_ok(format('SELECT session_delete_by_sub(NULL, %L)', :'b1'), '22004',
                 'sub must not be NULL', 'delete_by_sub with keep: NULL sub');

-- device metadata: bounds
SELECT lives_ok(format('SELECT session_create(user_agent => %L)', repeat('u', 512)),
                'user_agent takes 512 characters');
SELECT lives_ok(format('SELECT session_create(user_agent => %L)', repeat('ü', 512)),
                'counted as characters, not bytes');
SELECT is(pg_temp.error_of(format('SELECT session_create(user_agent => %L)', repeat('u', 513))),
          '22001: user_agent is too long | It has 513 characters; the limit is 512. | Pass the first 512 characters of the User-Agent header, e.g. left(user_agent, 512).',
          'a user_agent of 513 characters is refused, saying what to do');
SELECT throws_ok(format('SELECT session_update(%L, user_agent => %L)', :'a2', repeat('u', 513)),
                 '22001', 'user_agent is too long', 'session_update checks the bound too');
SELECT throws_ok(format('SELECT session_save(%L, %L, user_agent => %L)', 'own-saved-id-000001', '{}', repeat('u', 513)),
                 '22001', 'user_agent is too long', 'and session_save');
SELECT throws_ok($$SELECT session_create(ip => 'not-an-address')$$, '22P02', NULL,
                 'an invalid ip is refused by the inet cast');
SELECT lives_ok($$SELECT session_create(ip => '2001:db8::1')$$, 'an IPv6 address is an ip');

-- device metadata: update and clear
SELECT session_create(sub => 'own-dave', user_agent => 'Safari', ip => '198.51.100.1') AS d1 \gset
CREATE FUNCTION pg_temp.device(token text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(user_agent, '-') || ' ' || coalesce(host(ip), '-') FROM pgsession.sessions
     WHERE id_hash = sha256(convert_to(token, 'UTF8'))
$$;
SELECT is(session_update(:'d1', user_agent => 'Safari/17') AND session_update(:'d1', data => '{}'),
          true, 'session_update changes the user_agent (and an update without metadata leaves it)');
SELECT is(pg_temp.device(:'d1'), 'Safari/17 198.51.100.1', 'a given value changes, a NULL one is left');
SELECT is(session_update(:'d1', clear => ARRAY['ip']), true, 'clear takes ip');
SELECT is(pg_temp.device(:'d1'), 'Safari/17 -', 'and sets it to NULL');
SELECT session_update(:'d1', clear => ARRAY['user_agent'], ip => '203.0.113.9') AS ignored \gset
SELECT is(pg_temp.device(:'d1'), '- 203.0.113.9', 'clear takes user_agent, beside a new ip');
SELECT is(pg_temp.error_of(format('SELECT session_update(%L, ip => %L, clear => ARRAY[%L])', :'d1', '203.0.113.10', 'ip')),
          '22023: field "ip" is both given a value and cleared', 'a value both given and cleared is refused');

-- device metadata: session_save keeps it unless given
SELECT session_save('own-saved-id-000001', '{"n": 1}', sub => 'own-erin', user_agent => 'Edge', ip => '192.0.2.1') AS ignored \gset
SELECT pg_temp.handle_of('own-saved-id-000001') AS e_handle \gset
SELECT session_save('own-saved-id-000001', '{"n": 2}', sub => 'own-erin') AS ignored \gset
SELECT is(pg_temp.device('own-saved-id-000001') || ' ' || (pg_temp.handle_of('own-saved-id-000001') = :'e_handle'),
          'Edge 192.0.2.1 true',
          'a save without metadata keeps the live session''s device, and its handle');
SELECT session_save('own-saved-id-000001', '{"n": 3}', sub => 'own-erin', user_agent => 'Edge/2') AS ignored \gset
SELECT is(pg_temp.device('own-saved-id-000001'), 'Edge/2 192.0.2.1', 'a save replaces what it gives');
SELECT session_save('own-saved-id-000001', '{"n": 3}', sub => 'own-erin', ip => '192.0.2.2') AS ignored \gset
SELECT is(pg_temp.device('own-saved-id-000001'), 'Edge/2 192.0.2.2', 'and keeps what it does not');
UPDATE pgsession.sessions SET expires_at = now() - interval '1 second'
 WHERE id_hash = sha256(convert_to('own-saved-id-000001', 'UTF8'));
SELECT session_save('own-saved-id-000001', '{"n": 4}', sub => 'own-erin') AS ignored \gset
SELECT is(pg_temp.device('own-saved-id-000001') || ' ' || (pg_temp.handle_of('own-saved-id-000001') = :'e_handle'),
          '- - false', 'a save over an expired session starts a new one: new handle, no device');

SELECT * FROM finish();
ROLLBACK;
