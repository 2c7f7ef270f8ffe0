#!/usr/bin/env bash
# Runs every pgsession test suite against real PostgreSQL clusters and ends with one
# line over all of them: "N passed, N failed".
#
#   make test                      all suites
#   PGSESSION_SUITES="sql" make test   only some (packaging, sql, cluster, client, upgrade, node)
#
# As root it first installs what is missing of the Debian packages it needs
# (scripts/install-deps.sh --if-missing) and the extension (make install), and runs the
# clusters as the `postgres` OS user; otherwise all that must be installed already.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
. test/lib/cluster.sh

SUITES=${PGSESSION_SUITES:-"packaging sql cluster client upgrade node"}
TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

log() { printf '\n==== %s\n' "$*"; }

# No suite may hang the run: each gets a time limit (seconds, far above what it takes) and
# counts as failed when it is killed.
SUITE_TIMEOUT=${PGSESSION_SUITE_TIMEOUT:-900}
limited() { timeout --kill-after=15 "$SUITE_TIMEOUT" "$@"; }

# Adds a suite's counts to the totals.
record() {
    local suite=$1 passed=$2 failed=$3
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    SUMMARY+=("$suite: $passed passed, $failed failed")
}

# Counts TAP results in a verbose log: prints "passed failed".  A run that exited
# non-zero without a failing assertion (died, wrong plan) counts as one failure.
count_tap() {
    local file=$1 rc=$2 passed failed
    passed=$(grep -cE '^[[:space:]]*ok [0-9]+' "$file")
    failed=$(grep -cE '^[[:space:]]*not ok [0-9]+' "$file")
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    echo "$passed $failed"
}

install_extension() {
    if [ "$(id -u)" = 0 ]; then
        log "building and installing the extension"
        make -s >/dev/null && make -s install >/dev/null || return 1
    else
        make -s >/dev/null || return 1
        [ -f "$(pg_config --sharedir)/extension/pgsession.control" ] || {
            echo "pgsession is not installed: run 'sudo make install' first" >&2
            return 1
        }
    fi
}

# Packaging suite: the versions in the control file, META.json and the install script
# agree, and every upgrade script leads from an older version to the current one.
suite_packaging() {
    log "packaging suite"
    local passed=0 failed=0 control meta
    check() {
        if eval "$2"; then
            echo "ok - $1"; passed=$((passed + 1))
        else
            echo "not ok - $1"; failed=$((failed + 1))
        fi
    }
    control=$(sed -nE "s/^default_version *= *'([^']+)'/\1/p" pgsession.control)
    meta=$(python3 -c 'import json; m = json.load(open("META.json")); print(m["version"], m["provides"]["pgsession"]["version"])')
    check "META.json version ($meta) equals the control file's ($control)" '[ "$meta" = "$control $control" ]'
    check "sql/pgsession--$control.sql exists" '[ -f "sql/pgsession--$control.sql" ]'
    check "META.json is PGXN meta-spec 1.0.0" \
        'python3 -c "import json,sys; sys.exit(json.load(open(\"META.json\"))[\"meta-spec\"][\"version\"] != \"1.0.0\")"'
    for script in sql/pgsession--*--*.sql; do
        [ -e "$script" ] || continue
        check "$script starts with the CREATE EXTENSION guard" "head -n 3 '$script' | grep -q '\\\\echo Use'"
    done
    check "the install script starts with the CREATE EXTENSION guard" "head -n 3 sql/pgsession--$control.sql | grep -q 'echo Use'"
    local npm_version
    npm_version=$(python3 -c 'import json; print(json.load(open("integrations/node/package.json"))["version"])')
    check "integrations/node/package.json version ($npm_version) equals the control file's" '[ "$npm_version" = "$control" ]'
    record packaging "$passed" "$failed"
}

# pgTAP suite: test/sql/*.sql under pg_prove, against a cluster with the library
# preloaded.  Each file runs in a fresh database made from a template that has the
# extensions installed.
suite_sql() {
    log "pgTAP suite (test/sql)"
    local dir port out rc
    dir=$(make_scratch_dir sql)
    port=$(free_port)
    start_cluster "$dir" "$port" "shared_preload_libraries = 'pgsession'" \
        "pgsession.cleanup_worker = off" || { record sql 0 1; return; }
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE pgsession_test' &&
        psql -X -q -v ON_ERROR_STOP=1 -d pgsession_test \
            -c 'CREATE EXTENSION pgtap; CREATE EXTENSION dblink; CREATE EXTENSION pgsession' ||
        { record sql 0 1; stop_cluster "$dir"; return; }
    out="$dir/pg_prove.log"
    limited pg_prove --verbose --dbname pgsession_test test/sql/*.sql 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    read -r passed failed < <(count_tap "$out" "$rc")
    record sql "$passed" "$failed"
    stop_cluster "$dir"
    unset PGHOST PGPORT PGUSER
    [ "$failed" -eq 0 ] && rm -rf "$dir" || echo "kept $dir for inspection"
}

# Cluster suite: test/t/*.pl, Perl TAP tests with PostgreSQL::Test::Cluster.  They make
# their own clusters, so they run as the cluster user in a scratch copy of test/t.  prove
# is given the files: by itself it only looks for *.t.
suite_cluster() {
    log "cluster suite (test/t)"
    if ! ls test/t/*.pl >/dev/null 2>&1; then
        record cluster 0 0
        return
    fi
    local dir out rc perl_lib
    dir=$(make_scratch_dir cluster)
    cp -r test/t "$dir/t"
    chown -R "$PGSESSION_RUN_AS" "$dir" 2>/dev/null || true
    perl_lib="$(pg_config --pkglibdir)/pgxs/src/test/perl"
    out="$dir/prove.log"
    (cd "$dir" && as_cluster_user env PATH="$PG_BINDIR:$PATH" PG_REGRESS=/bin/true \
        PGSESSION_SOURCE="$ROOT" timeout --kill-after=15 "$SUITE_TIMEOUT" prove --verbose -I "$perl_lib" t/*.pl) 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    read -r passed failed < <(count_tap "$out" "$rc")
    record cluster "$passed" "$failed"
    [ "$failed" -eq 0 ] && rm -rf "$dir" || echo "kept $dir for inspection"
}

# Runs a suite's own script, which ends with a line "NAME: N passed, N failed", and adds
# its counts.  A script that exits non-zero without a failing count counts one failure.
run_counted_script() {
    local name=$1 script=$2 out rc passed failed
    out=$(mktemp)
    limited bash "$script" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    read -r passed failed < <(sed -nE "s/^$name: ([0-9]+) passed, ([0-9]+) failed\$/\\1 \\2/p" "$out" | tail -n 1)
    passed=${passed:-0}
    failed=${failed:-0}
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    record "$name" "$passed" "$failed"
    rm -f "$out"
}

# Client suite: the C++ client's GoogleTest tests (and its sanitizer build), under
# ctest, against a cluster with the extension installed (test/client/run.sh).
suite_client() {
    log "client suite (test/client)"
    if [ ! -f test/client/run.sh ]; then
        record client 0 0
        return
    fi
    run_counted_script client test/client/run.sh
}

# Upgrade suite: 0.1.0 as it shipped, then the current build and ALTER EXTENSION UPDATE
# (test/upgrade/run.sh; it installs the 0.1.0 library for a while, so it runs as root
# and puts the current build back before it ends).
suite_upgrade() {
    log "upgrade suite (test/upgrade)"
    run_counted_script upgrade test/upgrade/run.sh
}

# Node suite: the npm package in integrations/node (express-session store, SessionManager)
# and the README's Node.js and Python examples, under node --test (test/node/run.sh).
suite_node() {
    log "node suite (test/node)"
    run_counted_script node test/node/run.sh
}

if [ "$(id -u)" = 0 ] && ! bash scripts/install-deps.sh --if-missing; then
    echo "0 passed, 1 failed"
    exit 1
fi
if ! install_extension; then
    echo "0 passed, 1 failed"
    exit 1
fi
for suite in $SUITES; do
    "suite_$suite"
done

log "summary"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ] && [ "$TOTAL_PASSED" -gt 0 ]
