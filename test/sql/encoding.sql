-- Field limits count characters in the database's encoding; SQL_ASCII has no notion of
-- characters, so there (as everywhere in PostgreSQL) a character is a byte.  The
-- SQL_ASCII database is made here, reached through dblink, and dropped at the end.
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS pgsession_sql_ascii;
RESET client_min_messages;
CREATE DATABASE pgsession_sql_ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C';
SELECT dblink_connect('ascii', format('host=127.0.0.1 port=%s dbname=pgsession_sql_ascii user=%s',
                                      current_setting('port'), current_user));
SELECT dblink_exec('ascii', 'CREATE EXTENSION pgsession');
\o
BEGIN;
SELECT plan(5);
SELECT is((SELECT length(repeat('é', 255)) FROM (SELECT 1) AS x), 255, 'this database counts é as one character');
SELECT lives_ok($$SELECT session_create(nonce => repeat('é', 255))$$,
                'UTF8: 255 two-byte characters fit the 255-character nonce limit');
SELECT is((SELECT e FROM dblink('ascii', 'SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()') AS r(e text)),
          'SQL_ASCII', 'the other database is SQL_ASCII');
SELECT is((SELECT t FROM dblink('ascii', $$SELECT session_create(id => 'ascii-session-000001', nonce => repeat('e', 255))$$) AS r(t text)),
          'ascii-session-000001', 'SQL_ASCII: 255 one-byte characters fit');
SELECT throws_ok($$SELECT * FROM dblink('ascii', $q$SELECT session_create(nonce => repeat('é', 128))$q$) AS r(t text)$$,
                 '22001', 'nonce is too long', 'SQL_ASCII: 128 é (256 bytes) do not: there a character is a byte');
SELECT * FROM finish();
ROLLBACK;
\o /dev/null
SELECT dblink_disconnect('ascii');
DROP DATABASE pgsession_sql_ascii;
\o
