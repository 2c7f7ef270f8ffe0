# Shell helpers to run a throw-away PostgreSQL cluster: initdb in a scratch directory,
# loopback only, a free port, sockets in the scratch directory.  Source this file.
#
# As root, the cluster runs as the `postgres` OS user (initdb and postgres refuse to run
# as root); otherwise as the current user.  Clients (psql, pg_prove, tests) connect
# over TCP to 127.0.0.1 as the superuser `postgres`.

PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}

if [ "$(id -u)" = 0 ]; then
    PGSESSION_RUN_AS=${PGSESSION_RUN_AS:-postgres}
else
    PGSESSION_RUN_AS=${PGSESSION_RUN_AS:-$(id -un)}
fi

# Runs a command as the cluster's OS user.
as_cluster_user() {
    if [ "$(id -un)" = "$PGSESSION_RUN_AS" ]; then
        "$@"
    else
        runuser -u "$PGSESSION_RUN_AS" -- "$@"
    fi
}

# Makes a scratch directory owned by the cluster's OS user and prints its path.
make_scratch_dir() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pgsession-${1:-test}.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -un)" = "$PGSESSION_RUN_AS" ] || chown "$PGSESSION_RUN_AS" "$dir"
    echo "$dir"
}

# Prints a TCP port nobody listens on.
free_port() {
    python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# start_cluster DIR PORT [extra postgresql.conf lines...]
# Initializes DIR/data and starts it; the log is DIR/postgres.log.
start_cluster() {
    local dir=$1 port=$2
    shift 2
    as_cluster_user "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    start_data_dir "$dir/data" "$dir/postgres.log" \
        "listen_addresses = '127.0.0.1'" \
        "port = $port" \
        "unix_socket_directories = '$dir'" \
        "fsync = off" \
        "max_connections = 60" \
        "log_line_prefix = '%m [%p] %q%a '" \
        "$@"
}

# start_data_dir DATA LOG [postgresql.conf lines...]: appends the lines to the
# configuration of an initialized data directory (later lines win) and starts its
# server, logging to LOG (printed when the start fails).
start_data_dir() {
    local data=$1 log=$2 line
    shift 2
    for line in "$@"; do echo "$line"; done |
        as_cluster_user tee -a "$data/postgresql.conf" >/dev/null
    as_cluster_user "$PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null || {
        cat "$log" >&2
        return 1
    }
}

# stop_cluster DIR
stop_cluster() {
    as_cluster_user "$PG_BINDIR/pg_ctl" -D "$1/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# start_standby DIR PORT PRIMARY_PORT [extra postgresql.conf lines...]: a hot standby of
# the cluster in DIR, streaming from it over loopback, in DIR/standby on 127.0.0.1:PORT
# (pg_basebackup -R writes primary_conninfo and standby.signal); run as the cluster's OS
# user, its log DIR/standby.log.
start_standby() {
    local dir=$1 port=$2 primary_port=$3
    shift 3
    as_cluster_user "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
        -D "$dir/standby" -R -X stream -c fast >"$dir/basebackup.log" 2>&1 || {
        cat "$dir/basebackup.log" >&2
        return 1
    }
    # The copied postgresql.conf names the primary's port and sockets: these lines win.
    start_data_dir "$dir/standby" "$dir/standby.log" "port = $port" \
        "unix_socket_directories = '$dir'" "$@"
}

# stop_standby DIR
stop_standby() {
    [ -d "$1/standby" ] || return 0
    as_cluster_user "$PG_BINDIR/pg_ctl" -D "$1/standby" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# end_suite NAME DIR PASSED FAILED: what a suite script's exit trap does after stopping
# its servers.  Removes the scratch directory DIR (when given) if nothing failed, or keeps
# it for inspection; prints the line "NAME: N passed, N failed" that test/run-all.sh
# reads; exits 0 only when something passed and nothing failed.
end_suite() {
    local name=$1 dir=$2 passed=$3 failed=$4
    if [ -n "$dir" ] && [ "$failed" -eq 0 ]; then
        rm -rf "$dir"
    elif [ -n "$dir" ]; then
        echo "kept $dir for inspection"
    fi
    echo "$name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
