-- A session read with session_get more often than its idle timeout stays alive, whatever
-- its idle timeout and pgsession.touch_interval: idle timeouts below, at and above the
-- touch interval (2 s here), one set by session_save as a cookie's maxAge would, each
-- read every 0.25 s for 6 s.  Every read is its own statement (\gexec), so the clock
-- moves between them as between requests.
BEGIN;
SELECT plan(11);
SET LOCAL pgsession.touch_interval = '2s';

SELECT session_create(id => 'in-use-below-interval', idle_timeout => '1 second') AS below \gset
SELECT session_create(id => 'in-use-at-interval-00', idle_timeout => '2 seconds') AS at_interval \gset
SELECT session_create(id => 'in-use-above-interval', idle_timeout => '4 seconds') AS above \gset
\o /dev/null
SELECT session_save('in-use-cookie-max-age-4s', '{"cookie": {"maxAge": 4000}}', idle_timeout => '4000 milliseconds');
SELECT session_create(id => 'not-in-use-control-01', idle_timeout => '1 second');
\o
CREATE TEMP TABLE reads (n int, id text, at timestamptz, found boolean, last_accessed_at timestamptz);

\o /dev/null
SELECT CASE WHEN id IS NULL THEN 'SELECT pg_sleep(0.25)'
            ELSE format($$INSERT INTO reads SELECT %s, %L, statement_timestamp(), count(*) = 1, max(last_accessed_at) FROM session_get(%L)$$, n, id, id)
       END
FROM generate_series(1, 24) AS n,
     unnest(ARRAY[NULL, 'in-use-below-interval', 'in-use-at-interval-00', 'in-use-above-interval',
                  'in-use-cookie-max-age-4s']) WITH ORDINALITY AS i(id, k)
ORDER BY n, k \gexec
\o

SELECT is((SELECT count(*) FROM reads WHERE id = 'in-use-below-interval' AND found), 24::bigint,
          'idle timeout 1 s (below the 2 s touch interval), read every 0.25 s for 6 s: found every time');
SELECT is((SELECT count(*) FROM reads WHERE id = 'in-use-at-interval-00' AND found), 24::bigint,
          'idle timeout 2 s (at the touch interval): found every time');
SELECT is((SELECT count(*) FROM reads WHERE id = 'in-use-above-interval' AND found), 24::bigint,
          'idle timeout 4 s (above the touch interval): found every time');
SELECT is((SELECT count(*) FROM reads WHERE id = 'in-use-cookie-max-age-4s' AND found), 24::bigint,
          'a 4 s idle timeout from session_save (a cookie maxAge): found every time');
SELECT ok((SELECT max(at) - min(at) FROM reads) > interval '5.5 seconds', 'the reads spanned more than 5.5 seconds');
SELECT is((SELECT count(*) FROM session_get('not-in-use-control-01')), 0::bigint,
          'a session with a 1 s idle timeout that nobody read has expired meanwhile');

-- Still throttled: at most one recorded access per half idle timeout (1 s sessions:
-- every 0.5 s), and per touch interval.
SELECT cmp_ok((SELECT count(DISTINCT last_accessed_at) FROM reads WHERE id = 'in-use-below-interval'), '<=', 14::bigint,
              'idle 1 s: an access recorded about every half second, not at every read');
SELECT cmp_ok((SELECT count(DISTINCT last_accessed_at) FROM reads WHERE id = 'in-use-above-interval'), '<=', 5::bigint,
              'idle 4 s: an access recorded at most about every 2 s (the touch interval)');
SELECT cmp_ok((SELECT count(DISTINCT last_accessed_at) FROM reads WHERE id = 'in-use-above-interval'), '>=', 3::bigint,
              'idle 4 s: but recorded at least every 2 s');

-- The rule holds for touch_interval 0 (every access) and for one longer than the session.
SET LOCAL pgsession.touch_interval = 0;
SELECT session_create(id => 'touch-interval-zero-01', idle_timeout => '1 hour') AS zero \gset
SELECT pg_sleep(0.01);
SELECT is((SELECT last_accessed_at = statement_timestamp() FROM session_get(:'zero')), true,
          'touch_interval 0 still records every access');
SET LOCAL pgsession.touch_interval = '1h';
SELECT session_create(id => 'touch-interval-long-01', idle_timeout => '1 second') AS long \gset
SELECT pg_sleep(0.6);
SELECT is((SELECT last_accessed_at = statement_timestamp() FROM session_get(:'long')), true,
          'with a touch interval longer than the idle timeout, half the idle timeout is what throttles');

SELECT * FROM finish();
ROLLBACK;
