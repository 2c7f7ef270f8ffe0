#!/usr/bin/env bash
# Prepared against unprepared statements in the C++ client (client_options::
# prepared_statements), beside each other in one run on a cluster of its own:
#
#   bash bench/client/prepared.sh [SECONDS [ROUNDS]]      (default 3 s, 5 rounds)
#
# Builds the client benchmark (bench/client) under bench/results/build, starts a cluster
# on loopback with the benchmarks' durable settings (fsync and synchronous_commit on),
# creates a database with the extension, runs `pgsession-client-bench ... statements`
# and stops the cluster.  The extension must be installed (make install, or bench/run.sh).
# Prints one line per comparison: the median calls per second of each side and the
# median of the rounds' ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_SIDE=${1:-3}
ROUNDS=${2:-5}
RESULTS=bench/results
mkdir -p "$RESULTS"

[ -f "$(pg_config --sharedir)/extension/pgsession.control" ] || {
    echo "pgsession is not installed: run 'make install' first" >&2
    exit 1
}
echo "== building the C++ client benchmark"
cmake -S bench/client -B "$RESULTS/build" >"$RESULTS/client-build.log" 2>&1 &&
    cmake --build "$RESULTS/build" -j 2 --target pgsession-client-bench \
        >>"$RESULTS/client-build.log" 2>&1 || {
    cat "$RESULTS/client-build.log" >&2
    exit 1
}

. test/lib/cluster.sh
DIR=$(make_scratch_dir bench-prepared)
PORT=$(free_port)
cleanup() {
    stop_cluster "$DIR"
    rm -rf "$DIR"
}
trap cleanup EXIT
echo "== starting a cluster in $DIR on 127.0.0.1:$PORT"
start_cluster "$DIR" "$PORT" "fsync = on" "synchronous_commit = on" "jit = off" \
    "shared_preload_libraries = 'pgsession'" "pgsession.cleanup_worker = off"
PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres psql -X -q -d postgres -c "CREATE DATABASE bench"
PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres psql -X -q -d bench -c "CREATE EXTENSION pgsession"

echo "== $ROUNDS rounds of $SECONDS_PER_SIDE s per side, one connection each"
"$RESULTS/build/pgsession-client-bench" "host=127.0.0.1 port=$PORT user=postgres dbname=bench" \
    statements "$SECONDS_PER_SIDE" "$ROUNDS"
