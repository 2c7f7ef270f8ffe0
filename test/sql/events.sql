-- Session events: with pgsession.notify_channel set (it is empty, events off, by
-- default), a session ended by session_delete, session_delete_by_sub,
-- session_delete_by_handle, session_rotate or the cleanup is notified on that channel
-- when its transaction commits, never before and never after a
-- rollback, with a JSON payload naming it by the SHA-256 of its token.  A notification is
-- delivered to other sessions only, at commit: here one dblink connection listens, and
-- another (autocommit, or an explicit transaction block) ends sessions.
\o /dev/null
SELECT dblink_connect(name, format('host=127.0.0.1 port=%s dbname=%s user=%s application_name=%s',
                                   current_setting('port'), current_database(), current_user, name))
  FROM unnest(ARRAY['events_listener', 'events_writer']) AS name;
SELECT dblink_exec('events_listener', 'LISTEN pgsession');
SELECT dblink_exec('events_listener', 'LISTEN pgsession_renamed');
\o
BEGIN;
\ir lib/error_of.sql
SELECT plan(28);

-- What the listener heard: every notification it has received, in order.
CREATE TEMP TABLE heard (n serial, channel text, payload text);
-- Waits until the listener has heard `expected` notifications (at most 5 seconds), then a
-- little longer (to hear any extra one), and returns the payloads heard on `channel`,
-- forgetting everything heard.  With `expected` 0 it only waits the little longer.
CREATE FUNCTION pg_temp.heard_on(expected int, channel text DEFAULT 'pgsession') RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '5 seconds';
    result text[];
BEGIN
    LOOP
        INSERT INTO heard (channel, payload)
        SELECT notify_name, extra FROM dblink_get_notify('events_listener');
        EXIT WHEN (SELECT count(*) FROM heard) >= expected OR clock_timestamp() > deadline;
        PERFORM pg_sleep(0.02);
    END LOOP;
    PERFORM pg_sleep(0.3);
    INSERT INTO heard (channel, payload)
    SELECT notify_name, extra FROM dblink_get_notify('events_listener');
    SELECT array_agg(h.payload ORDER BY h.n) INTO result FROM heard h WHERE h.channel = heard_on.channel;
    DELETE FROM heard;
    RETURN coalesce(result, '{}');
END $$;
-- Runs `query` on the writer connection (committed at once unless a block is open there).
CREATE FUNCTION pg_temp.write(query text) RETURNS text LANGUAGE sql AS $$
    SELECT value FROM dblink('events_writer', query) AS t(value text)
$$;
-- The payload the events of the session with token `token` carry (its handle, its sub).
CREATE FUNCTION pg_temp.expected(event text, token text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('event', event, 'id_sha256', encode(sha256(convert_to(token, 'UTF8')), 'hex'),
                              'handle', s.handle, 'sub', s.sub)
      FROM pgsession.sessions s WHERE s.id_hash = sha256(convert_to(token, 'UTF8'))
$$;
SELECT is(pg_temp.heard_on(0), '{}', 'the listener starts with nothing heard');

-- off by default
SELECT is((SELECT boot_val FROM pg_settings WHERE name = 'pgsession.notify_channel'), '',
          'pgsession.notify_channel is empty by default');
SELECT pg_temp.write($$SELECT session_delete(session_create(sub => 'ev-default'))$$) AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'so by default a delete sends nothing');
SELECT pg_temp.write($$SELECT set_config('pgsession.notify_channel', 'pgsession', false)$$) AS ignored \gset

-- session_delete, at commit
SELECT pg_temp.write($$SELECT session_create(sub => 'ev-alice')$$) AS t1 \gset
SELECT pg_temp.expected('delete', :'t1') AS t1_event \gset
SELECT pg_temp.write(format('SELECT session_delete(%L)', :'t1')) AS ignored \gset
SELECT pg_temp.heard_on(1) AS notes \gset
SELECT is(cardinality(:'notes'::text[]), 1, 'session_delete sends one notification on channel pgsession');
SELECT is((:'notes'::text[])[1]::jsonb, :'t1_event'::jsonb,
          'its payload: event, id_sha256 (the SHA-256 of the token, in hex), handle and sub');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((:'notes'::text[])[1]::jsonb) AS k),
          ARRAY['event', 'handle', 'id_sha256', 'sub'], 'and nothing else');
SELECT is(position(:'t1' IN (:'notes'::text[])[1]), 0, 'the payload never holds the token');

SELECT pg_temp.write($$SELECT session_create(sub => 'ev-alice')$$) AS t2 \gset
SELECT pg_temp.write('BEGIN') AS ignored \gset
SELECT pg_temp.write(format('SELECT session_delete(%L)', :'t2')) AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'nothing is sent before the transaction commits');
SELECT pg_temp.write('ROLLBACK') AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'nor after it rolls back');
SELECT is((SELECT count(*) FROM session_get(:'t2')), 1::bigint, 'and the session is still there');
SELECT pg_temp.expected('delete', :'t2') AS t2_event \gset
SELECT pg_temp.write('BEGIN') AS ignored \gset
SELECT pg_temp.write(format('SELECT session_delete(%L)', :'t2')) AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'a delete in an open transaction sends nothing yet');
SELECT pg_temp.write('COMMIT') AS ignored \gset
SELECT is(pg_temp.heard_on(1)::jsonb[], ARRAY[:'t2_event']::jsonb[], 'its commit sends it');
SELECT is(pg_temp.write(format('SELECT session_delete(%L)', :'t2')), 'f', 'deleting it again finds nothing');
SELECT is(pg_temp.heard_on(0), '{}', 'and sends nothing');

-- a sub that JSON must escape, and none
SELECT pg_temp.write($$SELECT session_create(sub => E'ev-"q"\\\u00e9\t')$$) AS t3 \gset
SELECT pg_temp.write($$SELECT session_create()$$) AS t4 \gset
SELECT pg_temp.expected('delete', :'t3') AS t3_event \gset
SELECT pg_temp.expected('delete', :'t4') AS t4_event \gset
SELECT pg_temp.write(format('SELECT session_delete(%L) AND session_delete(%L)', :'t3', :'t4')) AS ignored \gset
SELECT is(pg_temp.heard_on(2)::jsonb[], ARRAY[:'t3_event', :'t4_event']::jsonb[],
          'a sub with quotes, a backslash, a tab and non-ASCII is escaped; no sub is null');

-- session_rotate: the old token's session
SELECT pg_temp.write($$SELECT session_create(sub => 'ev-bob')$$) AS t5 \gset
SELECT pg_temp.expected('rotate', :'t5') AS t5_event \gset
SELECT pg_temp.write(format('SELECT session_rotate(%L)', :'t5')) AS t5_new \gset
SELECT is(pg_temp.heard_on(1)::jsonb[], ARRAY[:'t5_event']::jsonb[],
          'session_rotate notifies the old token''s id, with the handle the session keeps');

-- session_delete_by_handle and session_delete_by_sub
SELECT pg_temp.expected('delete_by_handle', :'t5_new') AS t5_by_handle \gset
SELECT pg_temp.write(format('SELECT session_delete_by_handle(%L, %L)', 'ev-alice', :'t5_event'::jsonb->>'handle')) AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'another user''s handle removes nothing and sends nothing');
SELECT pg_temp.write(format('SELECT session_delete_by_handle(%L, %L)', 'ev-bob', :'t5_event'::jsonb->>'handle')) AS ignored \gset
SELECT is(pg_temp.heard_on(1)::jsonb[], ARRAY[:'t5_by_handle']::jsonb[], 'session_delete_by_handle notifies');

SELECT pg_temp.write($$SELECT session_create(sub => 'ev-carol')$$) AS c1 \gset
SELECT pg_temp.write($$SELECT session_create(sub => 'ev-carol')$$) AS c2 \gset
SELECT pg_temp.write($$SELECT session_create(sub => 'ev-carol')$$) AS c3 \gset
SELECT ARRAY[pg_temp.expected('delete_by_sub', :'c1'), pg_temp.expected('delete_by_sub', :'c3')] AS c_events \gset
SELECT pg_temp.write(format('SELECT session_delete_by_sub(%L, keep => %L)', 'ev-carol', :'c2')) AS ignored \gset
SELECT is((SELECT array_agg(p::jsonb ORDER BY p::jsonb->>'id_sha256') FROM unnest(pg_temp.heard_on(2)) AS p),
          (SELECT array_agg(e ORDER BY e->>'id_sha256') FROM unnest(:'c_events'::jsonb[]) AS e),
          'session_delete_by_sub sends one notification per session removed, none for the kept one');
SELECT pg_temp.write(format('SELECT session_delete(%L)', :'c2')) AS ignored \gset
SELECT is(cardinality(pg_temp.heard_on(1)), 1, '(which is deleted now)');

-- the channel
SELECT pg_temp.write($$SELECT session_create(sub => 'ev-dave')$$) AS d1 \gset
SELECT pg_temp.write($$SELECT set_config('pgsession.notify_channel', '', false)$$) AS ignored \gset
SELECT pg_temp.write(format('SELECT session_delete(%L)', :'d1')) AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'an empty pgsession.notify_channel turns events off');
SELECT pg_temp.write($$SELECT session_create(sub => 'ev-dave')$$) AS d2 \gset
SELECT pg_temp.write($$SELECT set_config('pgsession.notify_channel', 'pgsession_renamed', false)$$) AS ignored \gset
SELECT pg_temp.expected('delete', :'d2') AS d2_event \gset
SELECT pg_temp.write(format('SELECT session_delete(%L)', :'d2')) AS ignored \gset
SELECT is(pg_temp.heard_on(1, 'pgsession_renamed')::jsonb[], ARRAY[:'d2_event']::jsonb[],
          'pgsession.notify_channel renames the channel (and nothing goes to pgsession)');
SELECT pg_temp.write($$SELECT set_config('pgsession.notify_channel', 'pgsession', false)$$) AS ignored \gset
SELECT is(pg_temp.error_of(format('SET pgsession.notify_channel = %L', repeat('c', 64))),
          '22023: invalid value for parameter "pgsession.notify_channel": "' || repeat('c', 64) || '" | A channel name has at most 63 bytes; this one has 64. | Use a shorter name, or an empty string to turn events off.',
          'a channel name too long for NOTIFY is refused when set');
CREATE ROLE pgsession_events_role NOLOGIN;
SET LOCAL ROLE pgsession_events_role;
SELECT throws_ok($$SET pgsession.notify_channel = ''$$, '42501', NULL,
                 'an ordinary role cannot silence the events');
RESET ROLE;

-- the cleanup: one notification per batch, with the count
CREATE FUNCTION pg_temp.expire_sessions(sub text, n int) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.write(format($q$SELECT count(session_create(sub => %L)) FROM generate_series(1, %s)$q$, sub, n))
        || pg_temp.write(format($q$WITH e AS (UPDATE pgsession.sessions SET expires_at = now() - interval '1 second',
                                                 cleanup_after = now() - interval '1 second'
                                              WHERE sub = %L RETURNING 1) SELECT count(*) FROM e$q$, sub))
$$;
SELECT pg_temp.expire_sessions('ev-expired', 3) AS ignored \gset
SELECT pg_temp.write('SELECT session_cleanup()') AS removed \gset
SELECT cmp_ok(:'removed'::int, '>=', 3, '(the cleanup removes the expired sessions)');
SELECT is(pg_temp.heard_on(1)::jsonb[], ARRAY[jsonb_build_object('event', 'cleanup', 'removed', :'removed'::int)],
          'session_cleanup sends one notification with how many it removed, not one per session');
SELECT pg_temp.write('SELECT session_cleanup()') AS ignored \gset
SELECT is(pg_temp.heard_on(0), '{}', 'a cleanup that removes nothing sends nothing');
SELECT pg_temp.expire_sessions('ev-expired', 3) AS ignored \gset
SELECT pg_temp.write('CALL session_cleanup_in_batches(2)') AS ignored \gset
SELECT is(pg_temp.heard_on(2)::jsonb[],
          ARRAY[jsonb_build_object('event', 'cleanup', 'removed', 2), jsonb_build_object('event', 'cleanup', 'removed', 1)],
          'session_cleanup_in_batches sends one per batch, as each commits');

SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT dblink_disconnect(name) FROM unnest(ARRAY['events_listener', 'events_writer']) AS name;
\o
