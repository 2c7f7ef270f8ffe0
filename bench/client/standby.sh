#!/usr/bin/env bash
# A streaming hot standby of the benchmark cluster, for figure 6's standby variant only
# (bench.py starts it just before and removes it just after, so that no other figure
# pays for replication):
#
#   bash bench/client/standby.sh start DIR PRIMARY_PORT   # prints the standby's port
#   bash bench/client/standby.sh stop DIR                 # stops it, removes DIR/standby
#
# DIR is the benchmark cluster's scratch directory (bench/run.sh); the standby is made
# with pg_basebackup -R in DIR/standby, with small shared_buffers (the primary's are
# sized for the whole data set).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/lib/cluster.sh

case ${1:-} in
start)
    port=$(free_port)
    start_standby "$2" "$port" "$3" "shared_buffers = '256MB'" >&2
    echo "$port"
    ;;
stop)
    stop_standby "$2"
    rm -rf "$2/standby"
    ;;
*)
    echo "usage: $0 start DIR PRIMARY_PORT | stop DIR" >&2
    exit 2
    ;;
esac
