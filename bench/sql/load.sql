-- One chunk of benchmark sessions, numbers :lo to :hi (psql variables), in one
-- transaction.  :kind is 'live' (tokens 'benchtoken' || 33 digits, created within the
-- last minute, expiring in an hour) or 'expired' (tokens 'benchexpired' || 31 digits,
-- expired within the last hour).  Tokens have 43 characters, as pgsession's own.  Every
-- design gets the same payload: a user id and a 200-character access token.  The
-- original design's table gets the live sessions only (figure 5 does not use it).
SELECT :'kind' = 'live' AS live,
       CASE WHEN :'kind' = 'live' THEN 'benchtoken' ELSE 'benchexpired' END AS prefix,
       CASE WHEN :'kind' = 'live' THEN 33 ELSE 31 END AS width \gset
BEGIN;
CREATE TEMP TABLE chunk ON COMMIT DROP AS
SELECT :'prefix' || lpad(i::text, :width, '0') AS token,
       'user-' || i AS sub,
       left(repeat(md5(i::text), 7), 200) AS access_token,
       created_at,
       CASE WHEN :'live'::boolean THEN created_at + interval '1 hour'
            ELSE now() - random() * interval '1 hour' END AS expires_at
  FROM (SELECT i, now() - random() * interval '1 minute'
                  - CASE WHEN :'live'::boolean THEN interval '0' ELSE interval '2 hours' END AS created_at
          FROM generate_series(:lo, :hi) AS i) AS g;
INSERT INTO pgsession.sessions (id_hash, sub, access_token, data, created_at,
                                last_accessed_at, expires_at, idle_timeout,
                                absolute_expires_at, cleanup_after)
SELECT sha256(convert_to(token, 'UTF8')), sub, access_token,
       '{"theme": "dark", "lang": "en"}', created_at, created_at, expires_at,
       interval '1 hour', created_at + interval '8 hours', expires_at
  FROM chunk;
\if :live
INSERT INTO sessions (id, access_token, sub, created_at, expires_at, last_accessed_at)
SELECT token, access_token, sub, created_at, expires_at, created_at FROM chunk;
\endif
INSERT INTO session (sid, sess, expire)
SELECT token,
       json_build_object('cookie', json_build_object('originalMaxAge', 3600000,
                                                     'expires', expires_at,
                                                     'httpOnly', true, 'path', '/'),
                         'sub', sub, 'access_token', access_token),
       expires_at
  FROM chunk;
COMMIT;
