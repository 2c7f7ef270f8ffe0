-- One chunk of the growth benchmark's sessions (figure 11), numbers :lo to :hi (psql
-- variables), written straight into pgsession.sessions as its owner, in one statement.
-- :kind is 'live' (tokens 'benchtoken' || 33 digits, as bench/pgbench/pgsession_get.sql
-- reads them) or 'expired' (tokens 'benchexpired' || 31 digits): 43 characters, as
-- pgsession's own tokens.
--
-- Every row is what session_create(access_token, sub, data, user_agent, ip) would have
-- written at created_at, after later recorded accesses: id_hash the SHA-256 digest of the
-- token, handle from the column's default, idle timeout 1 hour and absolute timeout 8
-- hours (the extension's defaults), expires_at the earlier of last access + idle timeout
-- and the absolute expiry, cleanup_after what the extension leaves there: expires_at at
-- creation, and the cleanup moves it up to expires_at when it finds the session touched
-- since (so a live session created more than an hour ago has cleanup_after = expires_at).
-- A live session was created 1 to 7 hours ago and accessed within the last 2 minutes, so
-- it neither expires nor comes due for the cleanup (cleanup_after = expires_at, rescheduled)
-- within 58 minutes of loading, and no read of it is due to record an access (session_get
-- records one at least once per half of the idle timeout, whatever touch_interval says)
-- within 28 minutes, longer than the whole figure: spread over the last 30 minutes, 10% of
-- the 10M sessions came due within 3 minutes of their load and made the reads of figure 11
-- write, 2 clients waiting for a WAL flush on many calls.  An expired one was created 2 to
-- 3 hours ago and last accessed at least an hour ago.
-- The digests are random, so the primary key gets random inserts, as it does from
-- session_create over time.
INSERT INTO pgsession.sessions (id_hash, access_token, sub, data, created_at,
                                last_accessed_at, expires_at, idle_timeout,
                                absolute_expires_at, cleanup_after, user_agent, ip)
SELECT sha256(convert_to(token, 'UTF8')), access_token, sub, data, created_at,
       last_accessed_at, least(last_accessed_at + idle, created_at + absolute),
       idle, created_at + absolute,
       CASE WHEN created_at + idle > now() THEN created_at + idle
            ELSE least(last_accessed_at + idle, created_at + absolute) END,
       user_agent, ip
  FROM (SELECT CASE WHEN :'kind' = 'live' THEN 'benchtoken' || lpad(i::text, 33, '0')
                    ELSE 'benchexpired' || lpad(i::text, 31, '0') END AS token,
               left(repeat(md5(i::text), 7), 200) AS access_token,
               'user-' || (i % 1000003) AS sub,
               jsonb_build_object('theme', 'dark', 'lang', 'en',
                                  'csrf', md5('csrf' || i)) AS data,
               created_at,
               CASE WHEN :'kind' = 'live'
                    THEN now() - random() * interval '2 minutes'
                    ELSE created_at + random() * (now() - interval '1 hour' - created_at)
               END AS last_accessed_at,
               interval '1 hour' AS idle, interval '8 hours' AS absolute,
               'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
                   AS user_agent,
               ('10.' || (i >> 16 & 255) || '.' || (i >> 8 & 255) || '.' || (i & 255))::inet
                   AS ip
          FROM (SELECT i, now() - CASE WHEN :'kind' = 'live'
                                       THEN interval '1 hour' + random() * interval '6 hours'
                                       ELSE interval '2 hours' + random() * interval '1 hour'
                                  END AS created_at
                  FROM generate_series(:lo::bigint, :hi::bigint) AS i) AS g) AS s;
