-- session_save (a framework store's set()) and changing timeouts with session_update.
BEGIN;
SELECT plan(33);

-- a new session under an application-chosen id
SELECT ok(session_save('framework-sid-000001', '{"cart": [1]}', sub => 'alice', idle_timeout => '30 minutes')
          BETWEEN statement_timestamp() + interval '30 minutes' - interval '1 ms' AND statement_timestamp() + interval '30 minutes',
          'session_save creates a session and returns its expiry (now + idle_timeout)');
SELECT is((SELECT data FROM session_get('framework-sid-000001')), '{"cart": [1]}'::jsonb, 'the new session has the data');
SELECT is((SELECT sub FROM session_get('framework-sid-000001')), 'alice', 'and the sub');
SELECT is((SELECT idle_timeout FROM pgsession.sessions WHERE id_hash = sha256('framework-sid-000001')), interval '30 minutes',
          'and the given idle timeout');
SELECT is((SELECT absolute_expires_at - created_at FROM session_get('framework-sid-000001')), interval '8 hours',
          'a new session takes pgsession.absolute_timeout when none is given');
CREATE TEMP TABLE first_save AS SELECT created_at, absolute_expires_at FROM session_get('framework-sid-000001');

-- replacing a live session: whole, keeping created_at and the absolute expiry
SELECT pg_sleep(0.01);
SELECT ok(session_save('framework-sid-000001', '{"cart": [1, 2]}', nonce => 'n') > statement_timestamp(),
          'saving a live session again succeeds');
SELECT is((SELECT data FROM session_get('framework-sid-000001')), '{"cart": [1, 2]}'::jsonb, 'the data is replaced');
SELECT is((SELECT sub FROM session_get('framework-sid-000001')), NULL, 'a save is whole: a field not given is NULL');
SELECT is((SELECT nonce FROM session_get('framework-sid-000001')), 'n', 'a field given is set');
SELECT is((SELECT created_at FROM session_get('framework-sid-000001')), (SELECT created_at FROM first_save),
          'created_at is kept');
SELECT is((SELECT absolute_expires_at FROM session_get('framework-sid-000001')), (SELECT absolute_expires_at FROM first_save),
          'the absolute expiry is kept: saving never extends it');
SELECT is((SELECT idle_timeout FROM pgsession.sessions WHERE id_hash = sha256('framework-sid-000001')), interval '30 minutes',
          'an idle timeout not given is kept');
SELECT is((SELECT last_accessed_at = statement_timestamp() FROM session_get('framework-sid-000001')), false,
          '(session_get within the touch interval records nothing)');
SELECT is((SELECT last_accessed_at FROM pgsession.sessions WHERE id_hash = sha256('framework-sid-000001')) > (SELECT created_at FROM first_save), true,
          'a save counts as an access');

-- a shorter idle timeout on save: the expiry moves back, and cleanup_after with it
SELECT session_save('framework-sid-000001', '{}', idle_timeout => '1 second') AS short_expiry \gset
SELECT is((SELECT expires_at FROM session_get('framework-sid-000001')), :'short_expiry'::timestamptz,
          'a save with a shorter idle timeout moves the expiry back');
SELECT ok((SELECT cleanup_after <= expires_at FROM pgsession.sessions WHERE id_hash = sha256('framework-sid-000001')),
          'cleanup_after stays at or before the expiry');
SELECT session_save('framework-sid-000001', '{}', absolute_timeout => '0') AS no_limit \gset
SELECT is((SELECT absolute_expires_at FROM session_get('framework-sid-000001')), NULL,
          'absolute_timeout 0 on a save removes the absolute limit');

-- replacing an expired session: as new
SELECT session_create(id => 'framework-sid-expired', idle_timeout => '1 second', sub => 'old') AS expired \gset
SELECT created_at AS expired_created FROM session_get(:'expired') \gset
SELECT pg_sleep(1.05);
SELECT session_save('framework-sid-expired', '{"fresh": true}') AS expired_expiry \gset
SELECT cmp_ok((SELECT created_at FROM session_get('framework-sid-expired')), '>', :'expired_created'::timestamptz + interval '1 second',
          'saving over an expired session gives it a new created_at');
SELECT is((SELECT idle_timeout FROM pgsession.sessions WHERE id_hash = sha256('framework-sid-expired')), interval '1 hour',
          'and the settings'' idle timeout, not the expired one''s');
SELECT is((SELECT sub FROM session_get('framework-sid-expired')), NULL, 'and none of its old fields');

-- bad input
SELECT throws_ok($$SELECT session_save('framework-sid-000002', '[1]')$$, '22023', 'data must be a JSON object', 'save: data that is not an object');
SELECT throws_ok($$SELECT session_save('framework-sid-000002', '{}', idle_timeout => '0')$$, '22023', 'idle_timeout must be positive', 'save: zero idle timeout');
SELECT throws_ok($$SELECT session_save('framework-sid-000002', '{}', sub => repeat('u', 256))$$, '22001', 'sub is too long', 'save: over-long sub');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256('framework-sid-000002')), 0::bigint,
          'failed saves wrote nothing');

-- session_update changes timeouts ("remember me", a cookie maxAge that changes)
SELECT session_create(id => 'remember-me-sid-0001', idle_timeout => '30 minutes') AS remember \gset
SELECT is(session_update(:'remember', idle_timeout => '30 days', absolute_timeout => '90 days'), true,
          'session_update takes idle_timeout and absolute_timeout');
SELECT is((SELECT expires_at - statement_timestamp() <= interval '30 days' AND expires_at - statement_timestamp() > interval '29 days'
           FROM session_get(:'remember')), true, 'the new idle timeout applies from now');
SELECT is((SELECT absolute_expires_at - created_at FROM session_get(:'remember')), interval '90 days',
          'the new absolute timeout counts from created_at');
SELECT is(session_update(:'remember', absolute_timeout => '0'), true, 'absolute_timeout 0 removes the limit');
SELECT is((SELECT absolute_expires_at FROM session_get(:'remember')), NULL, 'so it has none');
SELECT throws_ok(format('SELECT session_update(%L, idle_timeout => %L)', :'remember', '-1 hour'), '22023',
                 'idle_timeout must be positive', 'update: a negative idle timeout is refused');

-- every writer of a live session records an access (session_get leaves one unrecorded
-- when it meets another writer, and relies on that writer recording it)
SELECT session_create(id => 'writer-records-00001', idle_timeout => '1 hour') AS writer \gset
SELECT pg_sleep(0.01);
SELECT session_update(:'writer', nonce => 'changed') AS updated \gset
SELECT cmp_ok((SELECT last_accessed_at - created_at FROM pgsession.sessions WHERE id_hash = sha256(:'writer')),
              '>=', interval '10 ms', 'session_update records an access');
SELECT pg_sleep(0.01);
SELECT session_rotate(:'writer') AS rotated \gset
CREATE TEMP TABLE after_rotate AS SELECT last_accessed_at, expires_at, created_at FROM pgsession.sessions
 WHERE id_hash = sha256(convert_to(:'rotated', 'UTF8'));
SELECT cmp_ok((SELECT last_accessed_at - created_at FROM after_rotate), '>=', interval '20 ms', 'session_rotate records an access');
SELECT is((SELECT expires_at - last_accessed_at FROM after_rotate), interval '1 hour', 'and slides the expiry with it');

SELECT * FROM finish();
ROLLBACK;
