#!/usr/bin/env bash
# Installs, from Debian's packages, everything pgsession needs to build, run and test.
# Run as root (or with sudo) on Debian 12.  With --bench, also what the benchmarks use
# beyond that (gnuplot for the plot, Redis for the context figures).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# postgresql-server-dev-15 takes the newest 15.x and may upgrade the installed server
# and libpq with it (same major version); install before starting any cluster.
apt-get install -y --no-install-recommends \
    build-essential g++ clang-14 llvm-14 make cmake pkg-config python3 perl \
    postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15 libpq-dev libssl-dev \
    postgresql-15-cron postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl \
    libgtest-dev libipc-run-perl clang-format pgbouncer
if [ "${1:-}" = "--bench" ]; then
    apt-get install -y --no-install-recommends gnuplot-nox redis-server
fi
