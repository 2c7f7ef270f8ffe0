#!/usr/bin/env bash
# Sets pgsession up for real on this machine and shows it working:
#   installs the Debian packages, builds and installs the extension, starts a local
#   cluster (loopback only) with the cleanup worker preloaded, and runs a short demo of
#   an OpenID Connect login flow, expiry and cleanup.
# Run as root (sudo bash scripts/demo.sh).  The cluster keeps running afterwards; the
# last lines say how to connect to it and how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "run as root: sudo bash scripts/demo.sh" >&2
    exit 1
fi

bash scripts/install-deps.sh
make -s
make -s install

. test/lib/cluster.sh
DIR=${PGSESSION_DEMO_DIR:-$(make_scratch_dir demo)}
PORT=${PGSESSION_DEMO_PORT:-$(free_port)}
start_cluster "$DIR" "$PORT" \
    "shared_preload_libraries = 'pgsession'" \
    "pgsession.databases = 'postgres'" \
    "pgsession.cleanup_interval = '5s'"
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres

echo "== a cluster with pgsession preloaded is running in $DIR on 127.0.0.1:$PORT"
psql -X -v ON_ERROR_STOP=1 <<'SQL'
\set ECHO queries
CREATE EXTENSION pgsession;

-- 1. The login starts: keep the OIDC nonce, state and PKCE code_verifier.
SELECT session_create(nonce => 'n-0S6_WzA2Mj', state => 'af0ifjsldkj',
                      code_verifier => 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk') AS token \gset
\echo token handed to the browser: :token

-- 2. The callback: check state, then store the tokens and forget the login secrets.
SELECT state, code_verifier FROM session_get(:'token');
SELECT session_update(:'token', access_token => 'eyJhbGciOi...', sub => 'user-42',
                      clear => ARRAY['nonce', 'state', 'code_verifier']);

-- 3. After login, rotate the token (session fixation defence).
SELECT session_rotate(:'token') AS token \gset
SELECT sub, access_token, expires_at FROM session_get(:'token');

-- 4. What is stored: a digest, never the token.
SELECT encode(id_hash, 'hex') AS id_hash, sub, expires_at FROM pgsession.sessions;

-- 5. A framework store (express-session's set()) saves a session whole under its own id,
--    with the idle timeout from the cookie's maxAge: one statement, create or replace.
SELECT session_save('express-sid-Yw3Rk9Qm2vXo', '{"cookie": {"maxAge": 1800000}, "views": 1}',
                    idle_timeout => '1800000 milliseconds') AS expires_at;
SELECT session_save('express-sid-Yw3Rk9Qm2vXo', '{"cookie": {"maxAge": 1800000}, "views": 2}') AS expires_at;
SELECT data FROM session_get('express-sid-Yw3Rk9Qm2vXo');

-- 6. A session that expires in 2 seconds, and the worker that removes it.
SELECT session_create(idle_timeout => '2 seconds', sub => 'short-lived') AS short \gset
SELECT backend_type, application_name, state FROM pg_stat_activity
 WHERE backend_type LIKE 'pgsession%' OR application_name LIKE 'pgsession%';
SQL

echo "== waiting for the cleanup worker (interval 5 s) to remove the expired session"
for _ in $(seq 1 30); do
    left=$(psql -X -tAc "SELECT count(*) FROM pgsession.sessions WHERE sub = 'short-lived'")
    [ "$left" = 0 ] && break
    sleep 1
done
psql -X -c "SELECT count(*) AS short_lived_left FROM pgsession.sessions WHERE sub = 'short-lived'"
if psql -X -tAc "SELECT 1 FROM pg_proc WHERE proname = 'session_stats'" | grep -q 1; then
    psql -X -c "SELECT * FROM session_stats()"
fi
echo "== the worker's log lines"
grep -i 'pgsession' "$DIR/postgres.log" | tail -n 5 || true

cat <<EOF

pgsession is running.
  connect:  psql -h 127.0.0.1 -p $PORT -U postgres
  log:      $DIR/postgres.log
  stop:     runuser -u $PGSESSION_RUN_AS -- $PG_BINDIR/pg_ctl -D $DIR/data stop
EOF
