#!/usr/bin/env bash
# make installcheck: the pgTAP suite (test/sql/*.sql) against a running server, the one
# libpq's environment names (PGHOST, PGPORT, PGUSER, as for psql), as every PGXS
# extension's installcheck does.  pgsession, pgtap and dblink must be installed on that
# server (make install; Debian's postgresql-15-pgtap), and PGUSER must be a superuser:
# the tests make roles and databases.  They run in a database of their own,
# pgsession_installcheck, made afresh and dropped afterwards; nothing else is touched.
#
# Some tests look at the cleanup worker's shared state, which needs the library in
# shared_preload_libraries: on a server without it those tests fail with a message that
# says so.  `make test` starts a cluster of its own with everything set up instead.
set -uo pipefail
cd "$(dirname "$0")/.."

DB=${PGSESSION_INSTALLCHECK_DB:-pgsession_installcheck}
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

if ! psql_admin -tAc 'SELECT 1' >/dev/null; then
    echo "installcheck: cannot connect (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-}); start a server or set PGHOST/PGPORT" >&2
    exit 2
fi
if [ "$(psql_admin -tAc 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')" != t ]; then
    echo "installcheck: $(psql_admin -tAc 'SELECT current_user') is not a superuser; set PGUSER" >&2
    exit 2
fi
preloaded=$(psql_admin -tAc "SELECT 'pgsession' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))")
[ "$preloaded" = t ] || echo "installcheck: pgsession is not in shared_preload_libraries; the tests of the worker's state will fail" >&2

psql_admin -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || exit 2
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" \
    -c 'CREATE EXTENSION pgtap; CREATE EXTENSION dblink; CREATE EXTENSION pgsession' || exit 2
pg_prove --dbname "$DB" test/sql/*.sql
rc=$?
psql_admin -c "DROP DATABASE $DB WITH (FORCE)" || true
exit $rc
