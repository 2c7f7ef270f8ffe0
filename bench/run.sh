#!/usr/bin/env bash
# The pgsession benchmarks in one command (make bench / make bench-quick):
#
#   bash bench/run.sh [full|quick] [figure numbers, e.g. 1,2]
#
# Builds and (as root) installs the extension, builds the C++ client benchmark, starts a
# tuned cluster of its own on loopback (durable commits, the cleanup worker preloaded and
# pointed at a database of its own), runs bench/bench.py against it and stops it.  Results
# go to bench/results/ (latest.json, cleanup_latency.png).  Everything is bounded: each
# pgbench run has a fixed length, every other step a timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-full}
ONLY=${2:-}
RESULTS=bench/results
mkdir -p "$RESULTS"

if [ "$(id -u)" = 0 ]; then
    echo "== building and installing the extension"
    make -s >/dev/null
    make -s install >/dev/null
else
    make -s >/dev/null
    [ -f "$(pg_config --sharedir)/extension/pgsession.control" ] || {
        echo "pgsession is not installed: run 'sudo make install' (or make bench as root)" >&2
        exit 1
    }
fi

echo "== building the C++ client benchmark"
CLIENT_BENCH=""
CLIENT_REASON="the C++ client benchmark did not build (see $RESULTS/client-build.log)"
if cmake -S bench/client -B "$RESULTS/build" >"$RESULTS/client-build.log" 2>&1 &&
    cmake --build "$RESULTS/build" -j 2 --target pgsession-client-bench \
        >>"$RESULTS/client-build.log" 2>&1; then
    CLIENT_BENCH=$(pwd)/$RESULTS/build/pgsession-client-bench
else
    echo "   $CLIENT_REASON"
fi

. test/lib/cluster.sh
DIR=$(make_scratch_dir bench)
PORT=$(free_port)
cleanup() {
    stop_standby "$DIR"
    stop_cluster "$DIR"
    rm -rf "$DIR"
}
trap cleanup EXIT

if [ "$MODE" = quick ]; then SHARED_BUFFERS=512MB; else SHARED_BUFFERS=3GB; fi
echo "== starting a cluster in $DIR on 127.0.0.1:$PORT"
# Tuned for the benchmark: the whole data set in shared buffers, no checkpoint unless
# asked for, commits durable (fsync on, overriding the test clusters' fsync = off), and
# no autovacuum (bench.py vacuums between figures, so every round starts alike).
start_cluster "$DIR" "$PORT" \
    "fsync = on" \
    "synchronous_commit = on" \
    "shared_buffers = '$SHARED_BUFFERS'" \
    "wal_buffers = '64MB'" \
    "max_wal_size = '16GB'" \
    "min_wal_size = '1GB'" \
    "checkpoint_timeout = '1h'" \
    "autovacuum = off" \
    "jit = off" \
    "shared_preload_libraries = 'pgsession'" \
    "pgsession.databases = 'bench_worker'" \
    "pgsession.cleanup_interval = '1s'" \
    "log_timezone = 'UTC'"
PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres psql -X -q -d postgres -c "CREATE DATABASE bench"

python3 bench/bench.py --port "$PORT" --mode "$MODE" --results "$(pwd)/$RESULTS" \
    --client-bench "$CLIENT_BENCH" --client-reason "$CLIENT_REASON" --only "$ONLY" \
    --scratch "$DIR"
