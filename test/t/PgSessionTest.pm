# Helpers shared by the cluster tests (test/t/*.pl): nodes with pgsession installed,
# sessions made in bulk, and waiting for the cleanup worker.
package PgSessionTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

our @EXPORT = qw(new_worker_node create_sessions insert_expired_sessions count_sessions
  worker_pids wait_for_worker_mid_run wait_for_value log_count);

# A started node whose postgresql.conf has `@conf` lines appended.  With preload => 1
# (the default) pgsession is in shared_preload_libraries with a 1 s cleanup interval.
# The pgsession extension is created in `postgres`.
sub new_worker_node {
    my ($name, %opts) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init(allows_streaming => $opts{allows_streaming} ? 1 : 0);
    my @conf = (
        "log_min_messages = info",
        "max_worker_processes = 16",
    );
    push @conf, "shared_preload_libraries = 'pgsession'", "pgsession.cleanup_interval = 1"
      if $opts{preload} // 1;
    push @conf, @{ $opts{conf} // [] };
    $node->append_conf('postgresql.conf', join("\n", @conf) . "\n");
    $node->start;
    $node->safe_psql('postgres', 'CREATE EXTENSION pgsession');
    return $node;
}

# Creates `count` sessions with ids "<prefix>-<n>" (n from 1), all with the given idle
# timeout (an interval literal).
sub create_sessions {
    my ($node, $db, $prefix, $count, $idle) = @_;
    $node->safe_psql($db,
            "SELECT count(session_create(id => '$prefix-session-' || lpad(g::text, 8, '0'), "
          . "idle_timeout => '$idle')) FROM generate_series(1, $count) g");
}

# Inserts `count` sessions that expired an hour ago straight into the table, as its owner
# (a backlog for the worker, fast: no session_create per row).  They look like what
# session_create stores, with ids "bulk-<n>".
sub insert_expired_sessions {
    my ($node, $db, $count) = @_;
    $node->safe_psql($db,
            "INSERT INTO pgsession.sessions (id_hash, created_at, last_accessed_at, expires_at, "
          . "idle_timeout, cleanup_after) SELECT sha256(convert_to('bulk-' || g, 'UTF8')), "
          . "now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour', "
          . "interval '1 hour', now() - interval '1 hour' FROM generate_series(1, $count) g");
}

# Number of stored sessions (live or not) whose id starts with "<prefix>-".
sub count_sessions {
    my ($node, $db, $prefix, $count) = @_;
    return $node->safe_psql($db,
            "SELECT count(*) FROM pgsession.sessions WHERE id_hash IN (SELECT "
          . "sha256(convert_to('$prefix-session-' || lpad(g::text, 8, '0'), 'UTF8')) "
          . "FROM generate_series(1, $count) g)");
}

# PIDs of the processes of a backend_type, comma-separated ('' when none).
sub worker_pids {
    my ($node, $type) = @_;
    return $node->safe_psql('postgres',
        "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') FROM pg_stat_activity "
          . "WHERE backend_type = '$type'");
}

# Waits until the cleanup worker of database `db` is in the middle of its run over the
# `bulk` expired sessions there (it has removed some); returns its PID, '' after 30 s.
sub wait_for_worker_mid_run {
    my ($node, $db, $bulk) = @_;
    my $start = time;
    while (time - $start < 30) {
        my $pid = $node->safe_psql('postgres',
                "SELECT pid FROM pg_stat_activity WHERE backend_type = "
              . "'pgsession cleanup worker' AND datname = '$db'");
        return $pid
          if $pid ne ''
          && $node->safe_psql($db, 'SELECT count(*) FROM pgsession.sessions') < $bulk;
        select(undef, undef, undef, 0.02);
    }
    return '';
}

# Polls `query` until it returns `expected` or `timeout` seconds pass; returns the
# seconds it took, or undef on timeout.
sub wait_for_value {
    my ($node, $db, $query, $expected, $timeout) = @_;
    my $start = time;
    while (time - $start < ($timeout // 30)) {
        my ($rc, $out) = $node->psql($db, $query);
        return time - $start if $rc == 0 && $out eq $expected;
        select(undef, undef, undef, 0.1);
    }
    return undef;
}

# Occurrences of a regexp in the node's log from `offset` on.
sub log_count {
    my ($node, $re, $offset) = @_;
    my $log = slurp_file($node->logfile, $offset // 0);
    my @hits = $log =~ /$re/g;
    return scalar @hits;
}

1;
