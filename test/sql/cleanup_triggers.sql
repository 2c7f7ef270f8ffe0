-- The cleanup deletes expired rows through the table access method, which fires no
-- triggers; when the table has some (an application's foreign key referencing it, with
-- ON DELETE CASCADE), it deletes through the executor instead, so they fire.
BEGIN;
SELECT plan(9);
SELECT session_create(id => 'with-a-cart-0000001', idle_timeout => '1 hour') AS expired \gset
SELECT session_create(id => 'with-a-cart-0000002', idle_timeout => '1 hour') AS live \gset
CREATE TABLE cleanup_test_cart (id_hash bytea REFERENCES pgsession.sessions ON DELETE CASCADE, item text);
INSERT INTO cleanup_test_cart VALUES (sha256('with-a-cart-0000001'), 'book'), (sha256('with-a-cart-0000002'), 'pen');
-- Expire the first one in place (the table's owner may; nothing else does this).
UPDATE pgsession.sessions SET expires_at = statement_timestamp() - interval '1 minute',
                              cleanup_after = statement_timestamp() - interval '1 minute'
 WHERE id_hash = sha256('with-a-cart-0000001');
UPDATE pgsession.sessions SET cleanup_after = statement_timestamp() - interval '1 minute'
 WHERE id_hash = sha256('with-a-cart-0000002');
SELECT cmp_ok(session_cleanup(), '>=', 1::bigint, 'session_cleanup removes the expired session');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256('with-a-cart-0000001')), 0::bigint,
          'the expired session is gone');
SELECT is((SELECT array_agg(item) FROM cleanup_test_cart), ARRAY['pen'],
          'its foreign key''s ON DELETE CASCADE fired: the expired session''s cart row is gone, the live one''s kept');
SELECT is((SELECT cleanup_after = expires_at FROM pgsession.sessions WHERE id_hash = sha256('with-a-cart-0000002')), true,
          'the live session was rescheduled');
SELECT is((SELECT count(*) FROM session_get(:'live')), 1::bigint, 'and is still served');

-- An expired session's id taken again (session_save, session_create): the old row is
-- deleted, so its ON DELETE triggers fire too, and the new session starts clean.
INSERT INTO cleanup_test_cart VALUES (sha256('with-a-cart-0000002'), 'pen 2');
UPDATE pgsession.sessions SET expires_at = statement_timestamp() - interval '1 minute'
 WHERE id_hash = sha256('with-a-cart-0000002');
SELECT ok(session_save('with-a-cart-0000002', '{"new": true}') > statement_timestamp(),
          'session_save takes the id of an expired session');
SELECT is((SELECT count(*) FROM cleanup_test_cart), 0::bigint,
          'the expired session''s rows went with it (ON DELETE CASCADE fired)');

-- A row this transaction holds itself is no obstacle (the delete through the table access
-- method reports it as held; the cleanup then takes the lock it already has).
DROP TABLE cleanup_test_cart;
SELECT session_create(id => 'held-by-myself-0001', idle_timeout => '1 hour') AS mine \gset
UPDATE pgsession.sessions SET expires_at = statement_timestamp() - interval '1 minute',
                              cleanup_after = statement_timestamp() - interval '1 minute'
 WHERE id_hash = sha256('held-by-myself-0001');
SELECT created_at AS held FROM pgsession.sessions WHERE id_hash = sha256('held-by-myself-0001') FOR UPDATE \gset
SELECT is(session_cleanup(), 1::bigint, 'session_cleanup removes an expired row its own transaction holds');
SELECT is((SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256('held-by-myself-0001')), 0::bigint,
          'it is gone');
SELECT * FROM finish();
ROLLBACK;
