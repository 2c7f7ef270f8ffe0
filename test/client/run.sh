#!/usr/bin/env bash
# The client suite: builds the C++ client twice (normal, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), runs each build's GoogleTest tests and the login_flow
# example under ctest against a scratch cluster with the extension and a streaming hot
# standby of it (pg_basebackup -R, for the standby tests), then installs the
# normal build into a scratch prefix and builds test/consumer against it, once with
# find_package and once with pkg-config.
#
#   bash test/client/run.sh
#
# The last line is "client: N passed, N failed" (test/run-all.sh reads it).  Build
# directories are kept in $PGSESSION_CLIENT_BUILD (default build/client) so that a
# second run only rebuilds what changed.
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
. test/lib/cluster.sh

BUILD=${PGSESSION_CLIENT_BUILD:-$ROOT/build/client}
JOBS=${PGSESSION_JOBS:-2}
PASSED=0
FAILED=0
CLUSTER_DIR=

log() { printf '\n==== client: %s\n' "$*"; }

# Adds to the totals: pass N, fail N.
pass() { PASSED=$((PASSED + $1)); }
fail() { FAILED=$((FAILED + $1)); }

finish() {
    [ -n "$CLUSTER_DIR" ] && stop_pgbouncer "$CLUSTER_DIR"
    [ -n "$CLUSTER_DIR" ] && stop_standby "$CLUSTER_DIR"
    [ -n "$CLUSTER_DIR" ] && stop_cluster "$CLUSTER_DIR"
    end_suite client "$CLUSTER_DIR" "$PASSED" "$FAILED"
}
trap finish EXIT
trap "exit 1" TERM INT

# configure_and_build NAME [cmake options...]
configure_and_build() {
    local name=$1
    shift
    log "building ($name)"
    cmake -S "$ROOT" -B "$BUILD/$name" "$@" >"$BUILD/$name.configure.log" 2>&1 || {
        cat "$BUILD/$name.configure.log"
        return 1
    }
    cmake --build "$BUILD/$name" -j "$JOBS" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^(g)?make' || true
    [ "${PIPESTATUS[0]}" -eq 0 ]
}

# run_ctest NAME: runs a build's tests one at a time (one restarts the server) and adds
# ctest's counts to the totals.
run_ctest() {
    local name=$1 out total failed
    log "testing ($name)"
    out="$BUILD/$name.ctest.log"
    ctest --test-dir "$BUILD/$name" --output-on-failure --timeout 120 2>&1 | tee "$out"
    # "100% tests passed, 0 tests failed out of 52"
    read -r failed total < <(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1 \2/p' "$out")
    if [ -z "${total:-}" ]; then
        fail 1
        return
    fi
    pass $((total - failed))
    fail "$failed"
}

# check NAME COMMAND...: one pass or fail for a command.
check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok: $name"
        pass 1
    else
        echo "FAILED: $name"
        fail 1
    fi
}

# start_pgbouncer DIR PORT SERVER_PORT: a PgBouncer on 127.0.0.1:PORT in transaction mode,
# two server connections per pool, in front of the cluster's pgsession_client database
# (also as pgsession_client_prepared: a second pool, for the test that pollutes its own);
# run as the cluster's OS user (pgbouncer refuses root), its files in DIR/pgbouncer.
start_pgbouncer() {
    local dir=$1/pgbouncer port=$2 server_port=$3 i
    command -v pgbouncer >/dev/null || {
        echo "pgbouncer is not installed (scripts/install-deps.sh installs it)" >&2
        return 1
    }
    as_cluster_user mkdir -p "$dir"
    echo '"postgres" ""' | as_cluster_user tee "$dir/userlist.txt" >/dev/null
    as_cluster_user tee "$dir/pgbouncer.ini" >/dev/null <<EOF
[databases]
pgsession_client = host=127.0.0.1 port=$server_port dbname=pgsession_client
pgsession_client_prepared = host=127.0.0.1 port=$server_port dbname=pgsession_client

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    as_cluster_user pgbouncer -d -q "$dir/pgbouncer.ini" || {
        cat "$dir/pgbouncer.log" >&2
        return 1
    }
    for i in $(seq 50); do
        psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d pgsession_client -c 'SELECT 1' \
            >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "pgbouncer did not answer on port $port" >&2
    cat "$dir/pgbouncer.log" >&2
    return 1
}

# stop_pgbouncer DIR: stops the PgBouncer that start_pgbouncer DIR started, if any.
stop_pgbouncer() {
    local pidfile=$1/pgbouncer/pgbouncer.pid
    [ -f "$pidfile" ] || return 0
    kill "$(cat "$pidfile")" 2>/dev/null || true
}

# as_cluster_command COMMAND...: the command line, run as the cluster's OS user.
as_cluster_command() {
    if [ "$(id -un)" = "$PGSESSION_RUN_AS" ]; then
        echo "$*"
    else
        echo "runuser -u $PGSESSION_RUN_AS -- $*"
    fi
}

mkdir -p "$BUILD"

log "starting a cluster"
CLUSTER_DIR=$(make_scratch_dir client)
PORT=$(free_port)
# Session events are off by default; the subscription tests (and test/consumer) listen on
# the channel "pgsession".  wal_keep_size: the standby has no slot, and tests restart the
# primary and create databases (each a checkpoint); without it the primary may recycle a
# segment the standby, reconnecting after a restart, has not received yet, and the
# standby never catches up again.
if ! start_cluster "$CLUSTER_DIR" "$PORT" "shared_preload_libraries = 'pgsession'" \
    "pgsession.cleanup_worker = off" "pgsession.notify_channel = 'pgsession'" \
    "wal_keep_size = '256MB'"; then
    fail 1
    exit 1
fi
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
    -c 'CREATE DATABASE pgsession_client' &&
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d pgsession_client \
        -c 'CREATE EXTENSION pgsession' || {
    fail 1
    exit 1
}

log "starting pgbouncer"
BOUNCER_PORT=$(free_port)
if start_pgbouncer "$CLUSTER_DIR" "$BOUNCER_PORT" "$PORT"; then
    export PGSESSION_TEST_PGBOUNCER_CONNINFO="host=127.0.0.1 port=$BOUNCER_PORT user=postgres dbname=pgsession_client"
else
    fail 1 # and the tests that need it fail as well
fi

log "starting a streaming standby"
STANDBY_PORT=$(free_port)
if start_standby "$CLUSTER_DIR" "$STANDBY_PORT" "$PORT"; then
    export PGSESSION_TEST_STANDBY_CONNINFO="host=127.0.0.1 port=$STANDBY_PORT user=postgres dbname=pgsession_client"
else
    fail 1 # and the standby tests fail as well
fi

export PGSESSION_TEST_CONNINFO="host=127.0.0.1 port=$PORT user=postgres dbname=pgsession_client"
export PGSESSION_CONNINFO=$PGSESSION_TEST_CONNINFO
PG_CTL_PRIMARY="$PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data -l $CLUSTER_DIR/postgres.log -w -t 60"
PG_CTL_STANDBY="$PG_BINDIR/pg_ctl -D $CLUSTER_DIR/standby -l $CLUSTER_DIR/standby.log -w -t 60"
export PGSESSION_TEST_RESTART_CMD="$(as_cluster_command "$PG_CTL_PRIMARY" -m fast restart) >/dev/null"
export PGSESSION_TEST_PRIMARY_STOP_CMD="$(as_cluster_command "$PG_CTL_PRIMARY" -m fast stop) >/dev/null"
export PGSESSION_TEST_PRIMARY_START_CMD="$(as_cluster_command "$PG_CTL_PRIMARY" start) >/dev/null"
export PGSESSION_TEST_STANDBY_STOP_CMD="$(as_cluster_command "$PG_CTL_STANDBY" -m fast stop) >/dev/null"
export PGSESSION_TEST_STANDBY_START_CMD="$(as_cluster_command "$PG_CTL_STANDBY" start) >/dev/null"

PREFIX="$BUILD/prefix"
if configure_and_build normal -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib; then
    run_ctest normal

    log "installing into $PREFIX and building test/consumer against it"
    rm -rf "$PREFIX" "$BUILD/consumer"
    if cmake --install "$BUILD/normal" >/dev/null; then
        check "consumer via find_package" bash -c "
            cmake -S '$ROOT/test/consumer' -B '$BUILD/consumer' -DCMAKE_PREFIX_PATH='$PREFIX' \
                >'$BUILD/consumer.log' 2>&1 &&
            cmake --build '$BUILD/consumer' >>'$BUILD/consumer.log' 2>&1 &&
            '$BUILD/consumer/consumer' || { cat '$BUILD/consumer.log'; false; }"
        check "consumer via pkg-config" bash -c "
            export PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig'
            c++ -std=c++17 -Wall -Wextra -Werror '$ROOT/test/consumer/main.cpp' \
                -o '$BUILD/consumer-pkg-config' \$(pkg-config --cflags --libs pgsession-client) &&
            '$BUILD/consumer-pkg-config'"
    else
        fail 1
    fi
else
    fail 1
fi

if configure_and_build sanitize -DCMAKE_BUILD_TYPE=Debug -DPGSESSION_SANITIZE=ON; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        run_ctest sanitize
else
    fail 1
fi
