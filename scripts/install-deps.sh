#!/usr/bin/env bash
# Installs, from Debian's packages, everything pgsession needs to build, run and test.
# Run as root (or with sudo) on Debian 12.  With --bench, also what the benchmarks use
# beyond that (gnuplot for the plot, Redis for the context figures).  With --if-missing,
# does nothing (not even apt-get update) when every package is installed already: make
# test runs it that way as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# postgresql-server-dev-15 takes the newest 15.x and may upgrade the installed server
# and libpq with it (same major version); install before starting any cluster.
PACKAGES=(
    build-essential g++ clang-14 llvm-14 make cmake pkg-config python3 perl
    postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15 libpq-dev libssl-dev
    postgresql-15-cron postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
    libgtest-dev libipc-run-perl clang-format pgbouncer
    python3-psycopg
)
# The node suite runs on the machine's Node.js; Debian's (18, with its npm) only where
# there is none, never over another installation (its npm package conflicts with one).
command -v node >/dev/null || PACKAGES+=(nodejs npm)
BENCH=no
IF_MISSING=no
for arg in "$@"; do
    case $arg in
    --bench) BENCH=yes ;;
    --if-missing) IF_MISSING=yes ;;
    *) echo "usage: $0 [--bench] [--if-missing]" >&2; exit 2 ;;
    esac
done
[ "$BENCH" = yes ] && PACKAGES+=(gnuplot-nox redis-server)

installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
if [ "$IF_MISSING" = yes ]; then
    missing=()
    for package in "${PACKAGES[@]}"; do installed "$package" || missing+=("$package"); done
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "installing the missing packages: ${missing[*]}"
fi

apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"
