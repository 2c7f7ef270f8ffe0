# The launcher never starts a second worker while a previous one may still run: the
# launcher is terminated while its worker, stopped with SIGSTOP, is in the middle of a
# run; the launcher the postmaster starts 10 s later waits for that worker to be gone.
# Meanwhile the worker's state says it is running where it is, and session_stats() that
# no launcher runs elsewhere; skip messages are not repeated by the new launcher.
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
my $bulk     = 200000;
my $node = new_worker_node('oneworker',
    conf => [ 'pgsession.cleanup_batch_size = 500', 'pgsession.cleanup_interval = 3600',
              "pgsession.databases = 'noext, missingdb, appdb, postgres'" ]);
$node->safe_psql('postgres', 'CREATE DATABASE appdb');
$node->safe_psql('postgres', 'CREATE DATABASE noext');
$node->safe_psql('appdb',    'CREATE EXTENSION pgsession');
insert_expired_sessions($node, 'postgres', $bulk);
my $bulk_left = 'SELECT count(*) FROM pgsession.sessions';

# Run every second; wait for the worker of postgres in the middle of its run.
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
my $pid = '';
my $start = time;
while (time - $start < 30) {
    $pid = $node->safe_psql('postgres',
        "SELECT pid FROM pg_stat_activity WHERE backend_type = '$worker' AND datname = 'postgres'");
    last if $pid ne '' && $node->safe_psql('postgres', $bulk_left) < $bulk;
    sleep 0.02;
}
isnt($pid, '', 'a worker is in the middle of the run of postgres');

# Stop it where stopping is safe: waiting for a table lock, it holds no spinlock and no
# LWLock (stopped anywhere else it could hold a buffer's content lock, or the WAL's
# spinlock, and stall or crash the whole server).  The lock is taken between two of its
# batches, stopped there, and given back.
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE pgsession.sessions IN ACCESS EXCLUSIVE MODE');
ok(defined wait_for_value($node, 'appdb',
        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $pid", 'Lock', 10),
    'the worker waits for the table lock between two batches');
kill 'STOP', $pid;
$holder->query_safe('COMMIT');
$holder->quit;
my $old_launcher = worker_pids($node, $launcher);
my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old_launcher)");
$node->wait_for_log(qr/$launcher shutting down/, $offset);

ok(defined wait_for_value($node, 'appdb',
        "SELECT worker_pid IS NULL AND last_run_result LIKE 'no worker: the launcher is not running (it exited at %' FROM session_stats()",
        't', 5),
    'session_stats() in another database says that no launcher runs');
# (Not session_stats() itself in that database: it counts the table's rows, and the
# stopped worker may hold the content lock of one of its pages.)
is($node->safe_psql('postgres', 'SELECT last_run_result FROM pgsession.cleanup_worker_state()'),
    'running', 'in the stopped worker\'s database it says running, which it still is');

# The new launcher comes 10 s after the old one's exit, and must wait.
ok(defined wait_for_value($node, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$launcher'", '1', 20),
    'the postmaster starts a new launcher');
$node->wait_for_log(
    qr/$launcher: waiting for the previous worker \(PID $pid\) to exit before starting the worker for database "\w+"/,
    $offset);
pass('the new launcher waits for the previous worker');
my $most = 0;
for (1 .. 20) {
    my $n = $node->safe_psql('postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = '$worker'");
    $most = $n if $n > $most;
    sleep 0.1;
}
is($most, 1, 'no second worker starts while the stopped one holds on');

# Let the old worker go: it acts on the SIGTERM its launcher sent, and the new launcher
# carries on.
kill 'CONT', $pid;
ok(defined wait_for_value($node, 'postgres', $bulk_left, '0', 40),
    'once the old worker is gone the new launcher finishes the cleanup');
ok(defined wait_for_value($node, 'postgres',
        "SELECT last_run_result, worker_pid IS NOT NULL FROM session_stats()", 'ok|t', 10),
    'session_stats() reports the new launcher\'s run');
is(log_count($node, qr/skipping database "noext": the pgsession extension is not installed/), 1,
    'the worker\'s skip message is logged once over both launchers');
is(log_count($node, qr/skipping database "missingdb": it does not exist/), 1,
    'the launcher\'s too');

$node->stop;
done_testing();
