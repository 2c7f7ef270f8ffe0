#!/usr/bin/env bash
# The upgrade suite: pgsession 0.1.0 exactly as it shipped (its install script and its
# library, built from the 0.1.0 commit in a scratch directory) serves sessions on a real
# cluster; then the current build is installed and the server restarted, the new library
# serves the not-yet-updated 0.1.0 database, ALTER EXTENSION pgsession UPDATE runs, the
# old sessions are served with their data intact, and every object of the upgraded
# extension is compared with a fresh install of the current version (describe.sql).
#
#   sudo bash test/upgrade/run.sh        (installs into the PostgreSQL of pg_config)
#
# Prints TAP lines ("ok N - ..."), ending with "upgrade: N passed, N failed".  On exit,
# whatever happened, the current build is installed again.
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
. test/lib/cluster.sh

# The commit that shipped as 0.1.0.
SHIPPED_0_1_0=55030f284eea5ba01a4a441516e3d854710a8ea7
CURRENT=$(sed -nE "s/^default_version *= *'([^']+)'/\1/p" pgsession.control)
PKGLIBDIR=$(pg_config --pkglibdir)
PASSED=0
FAILED=0
N=0
DIR=

ok() {
    N=$((N + 1))
    if [ "$1" = 0 ]; then
        echo "ok $N - $2"; PASSED=$((PASSED + 1))
    else
        echo "not ok $N - $2"; FAILED=$((FAILED + 1))
    fi
}
# check NAME COMMAND...: one assertion on a command's exit status.
check() {
    local name=$1
    shift
    "$@"
    ok $? "$name"
}
# is NAME GOT EXPECTED
is() {
    if [ "$2" = "$3" ]; then
        ok 0 "$1"
    else
        ok 1 "$1"
        printf '#   got:      %s\n#   expected: %s\n' "$2" "$3"
    fi
}

finish() {
    # Never leave the 0.1.0 library installed.
    make -C "$ROOT" -s install >/dev/null 2>&1 || echo "# could not reinstall the current build"
    if [ -n "$DIR" ]; then
        stop_cluster "$DIR"
        if [ "$FAILED" -eq 0 ]; then rm -rf "$DIR"; else echo "# kept $DIR for inspection"; fi
    fi
    echo "upgrade: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}
trap finish EXIT
trap "exit 1" TERM INT

if [ "$(id -u)" != 0 ]; then
    ok 1 "the upgrade suite runs as root (it installs two versions of the library)"
    exit 1
fi

DIR=$(make_scratch_dir upgrade)
PORT=$(free_port)
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# 1. Build 0.1.0 from its commit.
if ! git -C "$ROOT" cat-file -e "$SHIPPED_0_1_0^{commit}" 2>/dev/null; then
    ok 1 "the 0.1.0 commit $SHIPPED_0_1_0 is in this clone (a shallow clone lacks it)"
    exit 1
fi
mkdir -p "$DIR/src-0.1.0"
git -C "$ROOT" archive "$SHIPPED_0_1_0" | tar -x -C "$DIR/src-0.1.0"
check "0.1.0 builds from its commit" make -C "$DIR/src-0.1.0" -s >"$DIR/build-0.1.0.log" 2>&1
check "sql/pgsession--0.1.0.sql is the script that shipped" \
    cmp -s "$DIR/src-0.1.0/sql/pgsession--0.1.0.sql" sql/pgsession--0.1.0.sql
install -m 755 "$DIR/src-0.1.0/pgsession.so" "$PKGLIBDIR/pgsession.so"
install -m 644 "$DIR/src-0.1.0/sql/pgsession--0.1.0.sql" "$(pg_config --sharedir)/extension/"

# 2. A cluster with the worker preloaded, serving 0.1.0 sessions.
start_cluster "$DIR" "$PORT" "shared_preload_libraries = 'pgsession'" \
    "pgsession.databases = 'app'" "pgsession.cleanup_interval = 3600" || { ok 1 "cluster starts"; exit 1; }
q -d postgres -c "CREATE DATABASE app"
check "CREATE EXTENSION pgsession VERSION '0.1.0'" q -d app -c "CREATE EXTENSION pgsession VERSION '0.1.0'"

# The sessions to keep: every field, generated and supplied ids, a rotated one, one
# with an access recorded, one without an absolute limit, and one that expires.
q -d app >"$DIR/tokens" <<'SQL'
SELECT session_create(nonce => 'n-1', state => 's-1', code_verifier => 'v-1');
SELECT session_create(id => 'supplied-id-0000000001', sub => 'alice', access_token => 'at-1',
                      data => '{"theme": "dark", "n": [1, 2]}', absolute_timeout => '0');
SELECT session_rotate(session_create(sub => 'bob', data => '{"cart": 3}', idle_timeout => '2 hours'));
SELECT session_create(nonce => 'ünïcødé', state => repeat('x', 2048), idle_timeout => '10 minutes');
SELECT session_create(id => 'user;1234567890abcdef', sub => 'semicolon');
SQL
q -d app -c "SELECT session_create(id => 'expires-soon-0000001', idle_timeout => '1 second')" >/dev/null
q -d app -c "SELECT session_update(id => 'supplied-id-0000000001', nonce => 'n-2', clear => '{access_token}')" >/dev/null
q -d app -c "SET pgsession.touch_interval = 0; SELECT count(*) FROM session_get('supplied-id-0000000001')" >/dev/null
is "0.1.0 created five sessions to keep (one with an id 0.2.0 would refuse to create)" "$(wc -l <"$DIR/tokens")" 5

# What a session looks like, without the columns an access moves.
SHOW="SELECT coalesce(nonce, '-') || '|' || coalesce(state, '-') || '|' || coalesce(access_token, '-') || '|' || coalesce(code_verifier, '-') || '|' || coalesce(sub, '-') || '|' || coalesce(data::text, '-') || '|' || created_at || '|' || coalesce(absolute_expires_at::text, '-') FROM session_get(:'token')"
show_all() {
    local token
    while read -r token; do
        printf '%s;\n' "SET pgsession.touch_interval = '1h'" "$SHOW" |
            q -d app -v token="$token" 2>&1 || echo "error"
        echo "/"
    done <"$DIR/tokens"
}
show_all >"$DIR/before"
is "0.1.0 serves all five" "$(grep -c '|' "$DIR/before")" 5

# A database whose administrator restricted session_update to the application's role, as
# README "Privileges" shows: the update must keep that.
q -d postgres -c "CREATE ROLE upgrade_app" -c "CREATE DATABASE restricted"
q -d restricted -c "CREATE EXTENSION pgsession VERSION '0.1.0'" \
    -c "REVOKE EXECUTE ON FUNCTION session_update FROM PUBLIC" \
    -c "GRANT EXECUTE ON FUNCTION session_update TO upgrade_app" \
    -c "GRANT EXECUTE ON FUNCTION session_list, session_delete_by_sub TO upgrade_app"

# 3. The new build, a restart, and the 0.1.0 database served by the new library.  The
# launcher runs once at start: the 1-second session has expired by then.
sleep 1.2
check "the current build installs" make -C "$ROOT" -s install
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 restart >/dev/null
is "the database is still at 0.1.0 after the restart" \
    "$(q -d app -c "SELECT extversion FROM pg_extension WHERE extname = 'pgsession'")" 0.1.0
show_all >"$DIR/after-restart"
check "the new library serves every 0.1.0 session unchanged" cmp -s "$DIR/before" "$DIR/after-restart"
# A malformed token is an unknown session in 0.2.0 (0.1.0 raised 22023): the new
# library is the one answering.
is "the new library answers the 0.1.0 functions (malformed token: no session)" \
    "$(q -d app -c "SELECT count(*) FROM session_get('not a token')" 2>&1)" 0
is "0.1.0 functions write through the new library" \
    "$(q -d app -c "SELECT session_delete(session_create(sub => 'carol'))")" t
is "the new library lists a 0.1.0 database's sessions (0.1.0's five columns)" \
    "$(q -d app -c "SELECT count(*) || ' ' || count(idle_timeout) FROM session_list('alice')")" "1 1"
is "the new library rotates and removes a user's sessions in a 0.1.0 database (no handle yet)" \
    "$(q -d app -c "SELECT session_rotate(session_create(sub => 'dave')) IS NOT NULL" \
                -c "SELECT session_delete_by_sub('dave')" | tr '\n' ' ')" "t 1 "
is "the new library's cleanup removes the expired 0.1.0 session" \
    "$(for _ in $(seq 50); do
           n=$(q -d app -c "SELECT count(*) FROM pgsession.sessions WHERE id_hash = sha256('expires-soon-0000001')")
           [ "$n" = 0 ] && break; sleep 0.2
       done; echo "$n")" 0

# 4. The update.
OUT=$(q -d app -c "ALTER EXTENSION pgsession UPDATE" 2>&1)
ok $? "ALTER EXTENSION pgsession UPDATE"
is "no warning where only the owner may create objects in public (as PostgreSQL 15 makes it)" "$OUT" ""
is "the database is at $CURRENT" \
    "$(q -d app -c "SELECT extversion FROM pg_extension WHERE extname = 'pgsession'")" "$CURRENT"
show_all >"$DIR/after-update"
check "every 0.1.0 session is served with its data intact after the update" \
    cmp -s "$DIR/before" "$DIR/after-update"
is "every 0.1.0 session got a handle of its own at the update, and no device metadata" \
    "$(q -d app -c "SELECT count(*) || ',' || count(DISTINCT handle) || ',' || count(*) FILTER (WHERE user_agent IS NULL AND ip IS NULL) FROM pgsession.sessions")" \
    "5,5,5"
is "session_list shows an old session's handle, which ends it" \
    "$(q -d app -c "SELECT session_delete_by_handle('semicolon', (SELECT handle FROM session_list('semicolon')))" \
                -c "SELECT count(*) FROM session_get('user;1234567890abcdef')" | tr '\n' ' ')" "t 0 "
is "an old session takes the new functions (session_save replaces its data)" \
    "$(q -d app -c "SELECT session_save('supplied-id-0000000001', '{\"saved\": true}')" \
        -c "SELECT data FROM session_get('supplied-id-0000000001')" | tail -n 1)" '{"saved": true}'

# ... and whose public schema every role may write, as on a cluster created before
# PostgreSQL 15: the update warns, saying what to do.
q -d restricted -c "GRANT CREATE ON SCHEMA public TO PUBLIC"
OUT=$(q -d restricted -c "ALTER EXTENSION pgsession UPDATE" 2>&1)
ok $? "ALTER EXTENSION pgsession UPDATE where session_update was restricted"
WARNED='WARNING:  roles other than its owner may create objects in schema public, which holds pgsession'"'"'s functions'
HINTED='HINT:  Revoke the privilege (REVOKE CREATE ON SCHEMA public FROM PUBLIC), or keep pgsession in a schema of its own'
is "the update warns that every role may create objects in public, and says what to do" \
    "$(grep -cF -e "$WARNED" -e "$HINTED" <<<"$OUT")" 2
is "the new session_update keeps the restriction (PUBLIC, upgrade_app)" \
    "$(q -d restricted -c "SELECT has_function_privilege('public', p.oid, 'EXECUTE') || ',' || has_function_privilege('upgrade_app', p.oid, 'EXECUTE') FROM pg_proc p WHERE p.proname = 'session_update'")" \
    "false,true"
is "session_create stays PUBLIC's; session_list and session_delete_by_sub keep their grant; session_delete_by_handle gets session_delete_by_sub's" \
    "$(q -d restricted -c "SELECT string_agg(has_function_privilege('public', f, 'EXECUTE') || '/' || has_function_privilege('upgrade_app', f, 'EXECUTE'), ',' ORDER BY n)
        FROM unnest(ARRAY['session_create(text, text, text, text, text, text, jsonb, interval, interval, text, inet)', 'session_list(text)',
                          'session_delete_by_sub(text, text)', 'session_delete_by_handle(text, uuid)']) WITH ORDINALITY AS t(f, n)")" \
    "true/true,false/true,false/true,false/true"

# 5. The upgraded objects equal a fresh install's.
q -d postgres -c "CREATE DATABASE fresh" -c "CREATE DATABASE fresh_writable"
is "CREATE EXTENSION pgsession warns of nothing in public as PostgreSQL 15 makes it" \
    "$(q -d fresh -c "CREATE EXTENSION pgsession" 2>&1)" ""
OUT=$(q -d fresh_writable -c "GRANT CREATE ON SCHEMA public TO PUBLIC" -c "CREATE EXTENSION pgsession" 2>&1)
is "CREATE EXTENSION pgsession warns where every role may create objects in public" \
    "$(grep -cF -e "$WARNED" -e "$HINTED" <<<"$OUT")" 2
q -d app -f test/upgrade/describe.sql >"$DIR/upgraded.txt"
q -d fresh -f test/upgrade/describe.sql >"$DIR/fresh.txt"
check "the description covers the extension ($(wc -l <"$DIR/fresh.txt") lines)" \
    test "$(grep -c '^member ' "$DIR/fresh.txt")" -ge 20
if [ -s "$DIR/fresh.txt" ] && diff -u "$DIR/fresh.txt" "$DIR/upgraded.txt" >"$DIR/objects.diff"; then
    ok 0 "every object of the upgraded extension is identical to a fresh $CURRENT install"
else
    ok 1 "every object of the upgraded extension is identical to a fresh $CURRENT install"
    sed 's/^/#   /' "$DIR/objects.diff" | head -n 80
fi
