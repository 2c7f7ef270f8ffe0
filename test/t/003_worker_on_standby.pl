# A hot standby runs no cleanup worker (it could not write) and serves session_get; the
# calls that remove sessions say they cannot there; once promoted it starts the worker,
# which removes what expired meanwhile.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $launcher = 'pgsession cleanup launcher';
my $primary = new_worker_node('primary', allows_streaming => 1);
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

ok(defined wait_for_value($primary, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$launcher'", '1', 10),
    'the primary runs the launcher');

# The primary stops cleaning, so expired sessions reach the standby and stay there.
$primary->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_worker = off; SELECT pg_reload_conf()");
ok(defined wait_for_value($primary, 'postgres',
        "SELECT next_run_at IS NULL FROM session_stats()", 't', 10),
    'with pgsession.cleanup_worker = off no run is scheduled');
create_sessions($primary, 'postgres', 'live',  10, '1 hour');
create_sessions($primary, 'postgres', 'short', 20, '1 second');
$primary->wait_for_catchup($standby);
sleep 2;

is(worker_pids($standby, $launcher), '', 'no launcher on the standby');
is(worker_pids($standby, 'pgsession cleanup worker'), '', 'no worker on the standby');
ok(!$standby->log_contains(qr/$launcher started/), 'the standby log shows no launcher start');
my ($rc, $out, $err) = $standby->psql('postgres',
    "SET pgsession.touch_interval = 0; "
      . "SELECT count(*) FROM session_get('live-session-00000001')");
is("$rc|$out|$err", '0|1|', 'session_get reads a session on the standby without error');
# The calls that remove sessions say what was refused: removing sessions on a standby
# (not PostgreSQL's "cannot execute SELECT FOR UPDATE in a read-only transaction").
for my $call ("SELECT session_delete_by_sub('live')", 'SELECT session_cleanup()',
    "SELECT session_delete('live-session-00000001')", 'CALL session_cleanup_in_batches()') {
    my ($rc, $out, $err) = $standby->psql('postgres', "\\set VERBOSITY verbose\n$call");
    like($err, qr/ERROR:\s+25006: cannot remove sessions on a standby\n.*\nHINT:\s+Call \S+ on the primary\./s,
        "$call on the standby: 25006, cannot remove sessions on a standby");
}
is($standby->safe_psql('postgres',
        'SELECT live_sessions, expired_sessions, worker_pid, last_run_result FROM session_stats()'),
    '10|20||no worker: the server is in recovery; it starts after promotion',
    'session_stats() on the standby says why there is no worker');

$standby->promote;
ok(defined wait_for_value($standby, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$launcher'", '1', 15),
    'the promoted standby starts the launcher');
ok(defined wait_for_value($standby, 'postgres',
        'SELECT expired_sessions, live_sessions FROM session_stats()', "0|10", 15),
    'after promotion the worker removes the expired sessions and keeps the live ones');

$standby->stop;
$primary->stop;
done_testing();
