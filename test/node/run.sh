#!/usr/bin/env bash
# The node suite: the Node.js package in integrations/node (express-session store and
# SessionManager) under node's own test runner, against a scratch cluster with the
# extension and real Express apps on loopback; also the README's express example (copied
# into an empty directory) and its Python example.
#
#   bash test/node/run.sh
#
# Starts a cluster (as the `postgres` OS user when run as root), runs `npm ci` in
# integrations/node, then each test file under `node --test`.  The tests get the cluster
# through the environment: PGSESSION_TEST_DATABASE_URL (the extension in public),
# PGSESSION_TEST_SCHEMA_DATABASE_URL and PGSESSION_TEST_SCHEMA (the extension in a schema
# whose name needs quoting), and PGSESSION_TEST_PG_CTL, a command to which the tests add
# `stop`, `start` or `restart`.  The last line is "node: N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/../.."
. test/lib/cluster.sh

PASSED=0
FAILED=0
CLUSTER_DIR=

log() { printf '\n==== node: %s\n' "$*"; }

finish() {
    [ -n "$CLUSTER_DIR" ] && stop_cluster "$CLUSTER_DIR"
    end_suite node "$CLUSTER_DIR" "$PASSED" "$FAILED"
}
trap finish EXIT
trap "exit 1" TERM INT

for tool in node npm; do
    command -v "$tool" >/dev/null || {
        echo "$tool is not installed (scripts/install-deps.sh installs it)" >&2
        FAILED=$((FAILED + 1))
        exit 1
    }
done
echo "node $(node --version), npm $(npm --version)"

log "starting a cluster"
CLUSTER_DIR=$(make_scratch_dir node)
PORT=$(free_port)
# The worker removes expired sessions every second, as it would in production only slower.
if ! start_cluster "$CLUSTER_DIR" "$PORT" "shared_preload_libraries = 'pgsession'" \
    "pgsession.databases = 'pgsession_node'" "pgsession.cleanup_interval = '1s'"; then
    FAILED=$((FAILED + 1))
    exit 1
fi
# CREATE EXTENSION refuses a schema name with a quote in it; this one needs quoting still.
SCHEMA='Session Store'
sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
sql -d postgres -c 'CREATE DATABASE pgsession_node' -c 'CREATE DATABASE pgsession_node_schema' &&
    sql -d pgsession_node -c 'CREATE EXTENSION pgsession' &&
    sql -d pgsession_node_schema -c 'CREATE SCHEMA "Session Store"' \
        -c 'CREATE EXTENSION pgsession SCHEMA "Session Store"' || {
    FAILED=$((FAILED + 1))
    exit 1
}

log "npm ci (integrations/node)"
if (cd integrations/node && npm ci --no-audit --no-fund); then
    PASSED=$((PASSED + 1))
else
    FAILED=$((FAILED + 1))
    exit 1
fi

export PGSESSION_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/pgsession_node"
export PGSESSION_TEST_SCHEMA_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/pgsession_node_schema"
export PGSESSION_TEST_SCHEMA=$SCHEMA
pg_ctl="$PG_BINDIR/pg_ctl -D $CLUSTER_DIR/data -l $CLUSTER_DIR/postgres.log -w -t 60 -m fast"
if [ "$(id -un)" != "$PGSESSION_RUN_AS" ]; then
    pg_ctl="runuser -u $PGSESSION_RUN_AS -- $pg_ctl"
fi
export PGSESSION_TEST_PG_CTL=$pg_ctl

log "node --test (integrations/node/test)"
# One file at a time, each under its own node --test (some stop and restart the cluster
# the others use; --test-concurrency is not in every Node.js the package supports).  Each
# TAP stream ends with "# pass N" and "# fail N".
for file in integrations/node/test/*.test.js; do
    name=$(basename "$file" .test.js)
    tap="$CLUSTER_DIR/$name.tap"
    (cd integrations/node && node --test --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" "test/$name.test.js")
    rc=$?
    passed=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$tap" | tail -n 1)
    failed=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$tap" | tail -n 1)
    passed=${passed:-0}
    failed=${failed:-0}
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    PASSED=$((PASSED + passed))
    FAILED=$((FAILED + failed))
done
