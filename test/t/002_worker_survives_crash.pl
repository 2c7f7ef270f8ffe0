# The worker's life cycle: SIGTERM in the middle of a run stops it at once and rolls the
# open batch back, a fast shutdown is quick and logged, an immediate stop (a crash) loses
# no committed session, and the postmaster restarts a launcher killed with SIGKILL.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $launcher = 'pgsession cleanup launcher';
my $worker   = 'pgsession cleanup worker';
my $batch    = 500;
my $bulk     = 300000;
# Start with a long interval so that the bulk below waits for the reload.
my $node = new_worker_node('lifecycle',
    conf => [ 'restart_after_crash = on', "pgsession.cleanup_batch_size = $batch",
              'pgsession.cleanup_interval = 3600' ]);
create_sessions($node, 'postgres', 'live', 100, '1 hour');

# Expired sessions enough for a run of several seconds.
$node->safe_psql('postgres',
        "INSERT INTO pgsession.sessions (id_hash, created_at, last_accessed_at, expires_at, "
      . "idle_timeout, cleanup_after) SELECT sha256(convert_to('bulk-' || g, 'UTF8')), "
      . "now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour', "
      . "interval '1 hour', now() - interval '1 hour' FROM generate_series(1, $bulk) g");
my $bulk_left = "SELECT count(*) FROM pgsession.sessions WHERE expires_at < now() - interval '30 minutes'";

# Waits until a worker is in the middle of a run (some batches done) and returns its PID.
sub worker_mid_run {
    my $pid;
    my $start = time;
    while (time - $start < 30) {
        $pid = worker_pids($node, $worker);
        my $left = $node->safe_psql('postgres', $bulk_left);
        return $pid if $pid ne '' && $left < $bulk && $left > 0;
        sleep 0.02;
    }
    return '';
}

# --- SIGTERM mid-run
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
my $pid = worker_mid_run();
isnt($pid, '', 'a worker is in the middle of a run');
my $offset = -s $node->logfile;
my $t0 = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
my $gone = wait_for_value($node, 'postgres',
    "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid", '0', 5);
ok(defined $gone && $gone < 1, 'a worker stops within a second of SIGTERM mid-run');
note sprintf('stopped after %.2f s', time - $t0);
is($node->safe_psql('postgres', $bulk_left) % $batch, 0,
    'only whole batches were removed: the open one rolled back');
$node->wait_for_log(qr/the worker for database "postgres" exited before finishing its run/,
    $offset);
pass('the launcher logs the interrupted run');

# --- fast shutdown during a run
$pid = worker_mid_run();
isnt($pid, '', 'the next run has started');
$offset = -s $node->logfile;
$t0 = time;
$node->stop('fast');
my $stop_s = time - $t0;
note sprintf('fast shutdown took %.2f s', $stop_s);
cmp_ok($stop_s, '<', 5, 'a fast shutdown in the middle of a run is quick');
ok(log_count($node, qr/$launcher shutting down/, $offset) == 1, 'the launcher logs its shutdown');
is(log_count($node, qr/PANIC|terminated by signal|exited with exit code [^1]/, $offset), 0,
    'the shutdown is clean');

# --- immediate stop (a crash) during a run loses no committed session
$node->start;
$pid = worker_mid_run();
isnt($pid, '', 'after the restart the worker carries on');
$node->stop('immediate');
$node->start;
is(count_sessions($node, 'postgres', 'live', 100), '100',
    'no committed session is lost by an immediate stop and restart');
is($node->safe_psql('postgres', $bulk_left) % $batch, 0, 'still only whole batches removed');

# --- SIGKILL of the launcher: the postmaster restarts everything, the launcher included
my $launcher_pid = '';
ok(defined wait_for_value($node, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$launcher'", '1', 10),
    'the launcher is running');
$launcher_pid = worker_pids($node, $launcher);
$offset = -s $node->logfile;
kill 'KILL', $launcher_pid;
ok(defined wait_for_value($node, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$launcher' "
          . "AND pid <> $launcher_pid", '1', 30),
    'a new launcher runs after kill -9 of the old one');
ok(log_count($node, qr/$launcher.*terminated by signal 9/, $offset) == 1,
    'the postmaster logged the killed launcher');
ok(defined wait_for_value($node, 'postgres', $bulk_left, '0', 60),
    'the new launcher finishes the cleanup');
is(count_sessions($node, 'postgres', 'live', 100), '100', 'live sessions survived it all');

$node->stop;
done_testing();
