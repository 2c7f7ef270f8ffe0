-- Limits count characters in the database's encoding: UTF8 here, LATIN1 (one byte a
-- character), EUC_JP (two or three) and SQL_ASCII, which has no notion of characters, so
-- there (as everywhere in PostgreSQL) a character is a byte.  A session id must be visible
-- ASCII, in every encoding, and that is checked before its length.  The other databases
-- are made here, reached through dblink (which converts between their encodings and this
-- one), and dropped at the end.
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS pgsession_sql_ascii;
DROP DATABASE IF EXISTS pgsession_latin1;
DROP DATABASE IF EXISTS pgsession_euc_jp;
RESET client_min_messages;
CREATE DATABASE pgsession_sql_ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE DATABASE pgsession_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE DATABASE pgsession_euc_jp TEMPLATE template0 ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C';
SELECT dblink_connect(db, format('host=127.0.0.1 port=%s dbname=pgsession_%s user=%s',
                                 current_setting('port'), db, current_user))
  FROM unnest(ARRAY['sql_ascii', 'latin1', 'euc_jp']) AS db;
SELECT dblink_exec(db, 'CREATE EXTENSION pgsession') FROM unnest(ARRAY['sql_ascii', 'latin1', 'euc_jp']) AS db;
\o
BEGIN;
SELECT plan(32);

\ir lib/error_of.sql
-- The error of a statement run in database `db` (through dblink).
CREATE FUNCTION pg_temp.error_in(db text, query text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.error_of(format('SELECT * FROM dblink(%L, %L) AS r(t text)', db, query))
$$;

SELECT is((SELECT e FROM dblink(db, 'SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()') AS r(e text)),
          upper(db), 'database ' || db || ' is in encoding ' || upper(db))
  FROM unnest(ARRAY['sql_ascii', 'latin1', 'euc_jp']) AS db;

-- UTF8: every field limit, in characters of two bytes (a code_verifier and a sub, too,
-- are characters, not bytes)
SELECT is(length(repeat('é', 255)), 255, 'this database counts é as one character');
SELECT lives_ok(format('SELECT session_create(%s => repeat(''é'', %s))', f, n),
                format('UTF8: %s takes %s é (%s bytes)', f, n, 2 * n))
  FROM (VALUES ('nonce', 255), ('state', 2048), ('code_verifier', 255), ('access_token', 16384), ('sub', 255)) AS l(f, n);
SELECT is(pg_temp.error_of(format('SELECT session_create(%s => repeat(''é'', %s))', f, n + 1)),
          format('22001: %s is too long | It has %s characters; the limit is %s.', f, n + 1, n),
          format('UTF8: %s refuses %s é, counted in characters', f, n + 1))
  FROM (VALUES ('nonce', 255), ('state', 2048), ('code_verifier', 255), ('access_token', 16384), ('sub', 255)) AS l(f, n);
SELECT throws_ok($$SELECT session_save('utf8-saved-session-01', '{}', sub => repeat('é', 256))$$, '22001', 'sub is too long',
                 'UTF8: session_save counts characters too');

-- an id of 130 é is not ASCII, in every encoding, before it is too long (in UTF8 it is
-- 260 bytes, in LATIN1 130, in EUC_JP 390, in SQL_ASCII 260)
SELECT throws_ok($$SELECT session_create(id => repeat('é', 130))$$, '22023', 'id is not a valid cookie value',
                 'UTF8: an id of 130 é is not a cookie value');
SELECT is(pg_temp.error_in(db, $$SELECT session_create(id => repeat('é', 130))$$),
          '22023: id is not a valid cookie value | Character 1 is not visible ASCII; a session id may hold visible ASCII characters except '
          || '''"'', '','', '';'' and ''\'' (RFC 6265 cookie-octet). | Generated tokens are base64url; an application-supplied id must be usable as a cookie value.',
          upper(db) || ': an id of 130 é is not a cookie value')
  FROM unnest(ARRAY['sql_ascii', 'latin1', 'euc_jp']) AS db;
SELECT is(pg_temp.error_in(db, $$SELECT session_create(id => 'ascii-prefix-0123' || 'あ')$$),
          '22023: id is not a valid cookie value | Character 18 is not visible ASCII; a session id may hold visible ASCII characters except '
          || '''"'', '','', '';'' and ''\'' (RFC 6265 cookie-octet). | Generated tokens are base64url; an application-supplied id must be usable as a cookie value.',
          upper(db) || ': the position of the first non-ASCII character is told in characters')
  FROM unnest(ARRAY['euc_jp']) AS db;
SELECT is(pg_temp.error_in(db, $$SELECT session_create(id => repeat('a', 256))$$),
          '22001: id is too long | It has 256 characters; a session id has at most 255.',
          upper(db) || ': an over-long ASCII id is too long, in characters')
  FROM unnest(ARRAY['latin1', 'euc_jp']) AS db;
SELECT is((SELECT t FROM dblink(db, $$SELECT session_create(id => 'other-encoding-0001')$$) AS r(t text)),
          'other-encoding-0001', upper(db) || ': an ASCII id is taken')
  FROM unnest(ARRAY['latin1', 'euc_jp']) AS db;
-- and on a read path a non-ASCII token is no session, never an error
SELECT is((SELECT t FROM dblink('euc_jp', $$SELECT count(*)::text FROM session_get(repeat('あ', 20))$$) AS r(t text)),
          '0', 'EUC_JP: session_get of a non-ASCII token finds no session');

-- LATIN1: é is one byte and one character
SELECT is((SELECT t FROM dblink('latin1', $$SELECT octet_length(repeat('é', 255)) || '/' || (session_create(nonce => repeat('é', 255), sub => repeat('é', 255)) IS NOT NULL)$$) AS r(t text)),
          '255/true', 'LATIN1: 255 é (255 bytes) fit nonce and sub');
SELECT is(pg_temp.error_in('latin1', $$SELECT session_create(sub => repeat('é', 256))$$),
          '22001: sub is too long | It has 256 characters; the limit is 255.', 'LATIN1: 256 é do not');

-- EUC_JP: あ is two bytes and one character
SELECT is((SELECT t FROM dblink('euc_jp', $$SELECT octet_length(repeat('あ', 255)) || '/' || (session_create(nonce => repeat('あ', 255), state => repeat('あ', 2048)) IS NOT NULL)$$) AS r(t text)),
          '510/true', 'EUC_JP: 255 あ (510 bytes) fit nonce, 2048 fit state');
SELECT is(pg_temp.error_in('euc_jp', $$SELECT session_create(nonce => repeat('あ', 256))$$),
          '22001: nonce is too long | It has 256 characters; the limit is 255.', 'EUC_JP: 256 あ do not');
SELECT is(pg_temp.error_in('euc_jp', $$SELECT session_update('other-encoding-0001', code_verifier => repeat('あ', 256))$$),
          '22001: code_verifier is too long | It has 256 characters; the limit is 255.', 'EUC_JP: session_update counts characters too');

-- SQL_ASCII: a character is a byte
SELECT is((SELECT t FROM dblink('sql_ascii', $$SELECT session_create(id => 'ascii-session-000001', nonce => repeat('e', 255))$$) AS r(t text)),
          'ascii-session-000001', 'SQL_ASCII: 255 one-byte characters fit');
SELECT throws_ok($$SELECT * FROM dblink('sql_ascii', $q$SELECT session_create(nonce => repeat('é', 128))$q$) AS r(t text)$$,
                 '22001', 'nonce is too long', 'SQL_ASCII: 128 é (256 bytes) do not: there a character is a byte');
SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT dblink_disconnect(db) FROM unnest(ARRAY['sql_ascii', 'latin1', 'euc_jp']) AS db;
DROP DATABASE pgsession_sql_ascii;
DROP DATABASE pgsession_latin1;
DROP DATABASE pgsession_euc_jp;
\o
