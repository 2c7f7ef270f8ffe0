#!/usr/bin/env bash
# The Node.js benchmark (make bench-node; also part of make bench and make bench-quick):
#
#   bash bench/node/run.sh [full|quick]
#
# One Express app (bench/node/app.js) with pgsession's express-session store, with
# connect-pg-simple and with connect-redis, loaded by autocannon (bench/node/driver.js).
# Starts servers of its own on loopback: a durable PostgreSQL cluster (fsync on,
# synchronous_commit on) with pgsession and connect-pg-simple's table, and redis-server
# twice (appendonly no; appendonly yes with appendfsync always), each in a scratch
# directory.  As root it builds and installs the extension and installs what is missing
# (scripts/install-deps.sh --bench --if-missing: redis-server); otherwise it installs nothing but
# the benchmark's npm packages (npm ci).  Its figures replace those of an earlier run in
# bench/results/latest.json; the details go to bench/results/node.json.  Every step is
# bounded by a timeout and every server is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
case $MODE in
    quick) LIMIT=1200 SHARED_BUFFERS=256MB ;;
    full) LIMIT=3600 SHARED_BUFFERS=1GB ;;
    *) echo "usage: $0 [full|quick]" >&2; exit 2 ;;
esac
RESULTS=$(pwd)/bench/results
mkdir -p "$RESULTS"

command -v node >/dev/null && command -v npm >/dev/null || {
    echo "node and npm are needed (scripts/install-deps.sh installs them)" >&2
    exit 1
}
if [ "$(id -u)" = 0 ]; then
    echo "== building and installing the extension"
    make -s >/dev/null
    make -s install >/dev/null
    timeout 900 bash scripts/install-deps.sh --bench --if-missing >"$RESULTS/install-deps.log" 2>&1 ||
        echo "   scripts/install-deps.sh --bench failed (see $RESULTS/install-deps.log)"
else
    [ -f "$(pg_config --sharedir)/extension/pgsession.control" ] || {
        echo "pgsession is not installed: run 'sudo make install' (or make bench-node as root)" >&2
        exit 1
    }
fi

echo "== npm ci in bench/node"
(cd bench/node && timeout 600 npm ci --no-audit --no-fund --loglevel=error) \
    >"$RESULTS/node-npm.log" 2>&1 || {
    cat "$RESULTS/node-npm.log" >&2
    exit 1
}

. test/lib/cluster.sh
DIR=$(make_scratch_dir bench-node)
PORT=$(free_port)
REDIS_PIDS=()
cleanup() {
    for pid in "${REDIS_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${REDIS_PIDS[@]}"; do
        timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
    done
    stop_cluster "$DIR"
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a durable cluster in $DIR on 127.0.0.1:$PORT"
start_cluster "$DIR" "$PORT" \
    "fsync = on" \
    "synchronous_commit = on" \
    "shared_buffers = '$SHARED_BUFFERS'" \
    "max_wal_size = '4GB'" \
    "jit = off" \
    "shared_preload_libraries = 'pgsession'" \
    "pgsession.databases = 'bench'"
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=bench
psql -X -q -d postgres -c "CREATE DATABASE bench"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pgsession" \
    -f bench/node/node_modules/connect-pg-simple/table.sql
export BENCH_PG_PID BENCH_PG_LOG=$DIR/postgres.log
BENCH_PG_PID=$(head -1 "$DIR/data/postmaster.pid")

# start_redis NAME [redis-server options...]: a server in $DIR/NAME on a free port; sets
# REDIS_URL and REDIS_PID.
start_redis() {
    local name=$1 port
    shift
    port=$(free_port)
    mkdir -p "$DIR/$name"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$DIR/$name" --save '' \
        --logfile "$DIR/$name/redis.log" "$@" &
    REDIS_PID=$!
    REDIS_PIDS+=("$REDIS_PID")
    REDIS_URL=redis://127.0.0.1:$port
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "redis-server $name did not start (see $DIR/$name/redis.log)" >&2
    return 1
}

if command -v redis-server >/dev/null; then
    echo "== starting redis-server twice: appendonly no; appendonly yes, appendfsync always"
    start_redis redis --appendonly no
    export BENCH_REDIS_URL=$REDIS_URL BENCH_REDIS_PID=$REDIS_PID
    start_redis redis-aof --appendonly yes --appendfsync always
    export BENCH_REDIS_AOF_URL=$REDIS_URL BENCH_REDIS_AOF_PID=$REDIS_PID
else
    export BENCH_REDIS_SKIPPED="redis-server not installed"
    echo "   Redis skipped: redis-server not installed (scripts/install-deps.sh --bench)"
fi

timeout -k 10 "$LIMIT" node bench/node/driver.js --mode "$MODE" --results "$RESULTS"
echo
python3 bench/bench.py --markdown "$RESULTS/node.json"
