# After a run that removed sessions, the worker vacuums pgsession.sessions when
# autovacuum's rule says the table is due, instead of leaving the dead rows to
# autovacuum's next visit: the server's threshold and scale factor or the table's, the
# table's cost delay, not when autovacuum is off (for the server or the table) or
# pgsession.cleanup_vacuum is off, and never waiting for another VACUUM's lock.  Dead rows
# the worker left below the threshold count towards the next run's decision.  It yields as
# autovacuum does: a session that waits for a lock it holds cancels it, and DROP DATABASE
# terminates it rather than wait for it.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();

# autovacuum stays on (the worker follows it) but never visits during the test: a
# vacuum of its own would take the dead rows the assertions count.
my $node = new_worker_node('vacuum',
    conf => [ 'pgsession.cleanup_interval = 3600', "autovacuum_naptime = '1d'",
        'pgsession.cleanup_wal_rate_limit = 0', "pgsession.databases = 'postgres, slow'" ]);
$node->safe_psql('postgres', 'CREATE DATABASE slow');
$node->safe_psql('slow', 'CREATE EXTENSION pgsession');

my $worker = "backend_type = 'pgsession cleanup worker'";

# Starts one run now (the interval is an hour otherwise) and waits until its run in `db`
# has ended ok; with `wait_vacuum` until the worker then vacuums instead.  Returns the log
# offset before the run.
sub start_run {
    my ($db, $wait_vacuum) = @_;
    my $offset = -s $node->logfile;
    my $since = $node->safe_psql($db, 'SELECT now()');
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
    ok( defined wait_for_value($node, $db,
            "SELECT (last_run_started_at >= '$since' AND last_run_finished_at >= "
              . "last_run_started_at) || ' ' || last_run_result FROM session_stats()",
            'true ok', 30),
        "a run in $db started and ended ok");
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET pgsession.cleanup_interval = 3600; SELECT pg_reload_conf()");
    ok( defined wait_for_value($node, 'postgres',
            "SELECT count(*) FROM pg_stat_activity WHERE $worker AND query LIKE 'VACUUM%'",
            '1', 30),
        'the worker vacuums')
      if $wait_vacuum;
    return $offset;
}

# One run in `postgres`, waited for to its end (the worker reports the run, then
# vacuums); returns the log it wrote.
sub run_now {
    my $offset = start_run('postgres');
    ok(defined wait_for_value($node, 'postgres',
            "SELECT count(*) FROM pg_stat_activity WHERE $worker", '0', 60),
        'the worker has exited');
    return slurp_file($node->logfile, $offset);
}

sub stats {
    return $node->safe_psql('postgres',
        "SELECT n_dead_tup || ' dead, ' || vacuum_count || ' vacuums, ' || autovacuum_count "
          . "|| ' autovacuums' FROM pg_stat_user_tables WHERE relid = 'pgsession.sessions'::regclass");
}

my $vacuumed = qr/pgsession cleanup worker: vacuumed pgsession.sessions in database "postgres"/;

# --- over the server's threshold (50 + 0.2 * reltuples, reltuples 0 before any vacuum)
insert_expired_sessions($node, 'postgres', 1000);
my $log = run_now();
like($log,
    qr/$vacuumed \(1000 dead rows, over autovacuum's threshold of 50; [\d.]+ ms, vacuum_cost_delay = 2 ms\)/,
    'a run that removed 1000 sessions vacuums the table, with autovacuum\'s cost delay');
like($log, qr/removed 1000 expired sessions(.|\n)*$vacuumed/,
    'the vacuum line follows the run\'s line');
is(stats(), '0 dead, 1 vacuums, 0 autovacuums', 'the table has no dead rows left');

# --- at it (autovacuum vacuums over the threshold, not at it): no vacuum, and the dead
# rows are left for later
insert_expired_sessions($node, 'postgres', 50);
$log = run_now();
like($log, qr/removed 50 expired sessions/, 'the worker removed 50 sessions');
unlike($log, $vacuumed, '50 dead rows are not over the threshold of 50: no vacuum');
is(stats(), '50 dead, 1 vacuums, 0 autovacuums', 'the 50 dead rows stay');

# --- the table's own threshold and cost delay; the rows left before count
$node->safe_psql('postgres',
    'ALTER TABLE pgsession.sessions SET (autovacuum_vacuum_threshold = 10, '
      . 'autovacuum_vacuum_cost_delay = 7)');
insert_expired_sessions($node, 'postgres', 20);
$log = run_now();
like($log,
    qr/$vacuumed \(70 dead rows, over autovacuum's threshold of 10; [\d.]+ ms, vacuum_cost_delay = 7 ms\)/,
    'the table\'s storage parameters apply, and the dead rows left by the last run count');
is(stats(), '0 dead, 2 vacuums, 0 autovacuums', 'vacuumed again');

# --- autovacuum_enabled = false on the table
$node->safe_psql('postgres', 'ALTER TABLE pgsession.sessions SET (autovacuum_enabled = false)');
insert_expired_sessions($node, 'postgres', 100);
unlike(run_now(), $vacuumed, 'no vacuum where autovacuum is off for the table');
$node->safe_psql('postgres', 'ALTER TABLE pgsession.sessions RESET (autovacuum_enabled)');

# --- pgsession.cleanup_vacuum = off
my $offset = -s $node->logfile;
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_vacuum = off; SELECT pg_reload_conf()");
$node->wait_for_log(qr/pgsession.cleanup_vacuum = off/, $offset);
pass('the launcher logs the new setting');
insert_expired_sessions($node, 'postgres', 100);
unlike(run_now(), $vacuumed, 'no vacuum with pgsession.cleanup_vacuum = off');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pgsession.cleanup_vacuum");

# --- autovacuum = off for the server
$node->safe_psql('postgres', "ALTER SYSTEM SET autovacuum = off; SELECT pg_reload_conf()");
insert_expired_sessions($node, 'postgres', 100);
unlike(run_now(), $vacuumed, 'no vacuum with autovacuum off for the server');
$node->safe_psql('postgres', "ALTER SYSTEM RESET autovacuum; SELECT pg_reload_conf()");
is(stats(), '300 dead, 2 vacuums, 0 autovacuums', 'the dead rows of three runs stay');

# --- another VACUUM (here: its lock) at work on the table: the worker does not wait
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE pgsession.sessions IN SHARE UPDATE EXCLUSIVE MODE');
insert_expired_sessions($node, 'postgres', 100);
$log = run_now();
like($log,
    qr/not vacuuming pgsession.sessions in database "postgres" \(400 dead rows, autovacuum's threshold 10\): another session holds or waits for a conflicting lock on it \(VACUUM, ANALYZE or DDL\)/,
    'a run while another holds the vacuum lock says so and ends ok');
$holder->query_safe('COMMIT');
$holder->quit;
insert_expired_sessions($node, 'postgres', 10);
like(run_now(), qr/$vacuumed \(410 dead rows/, 'the next run vacuums');
is(stats(), '0 dead, 3 vacuums, 0 autovacuums', 'the table has no dead rows left');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgsession.sessions'), '0',
    'every expired session was removed');

# --- a slow vacuum yields: at most 1 kB of cost per 100 ms sleep makes it last minutes
sub slow_table {
    my ($db) = @_;
    $node->safe_psql($db,
        'ALTER TABLE pgsession.sessions SET (autovacuum_vacuum_cost_delay = 100, '
          . 'autovacuum_vacuum_cost_limit = 1)');
    insert_expired_sessions($node, $db, 5000);
}

# A session that waits for the vacuum's lock (deadlock_timeout, 1 s) cancels it.
slow_table('postgres');
$offset = start_run('postgres', 1);
my $t0 = Time::HiRes::time();
$node->safe_psql('postgres',
    "SET lock_timeout = '60s'; ALTER TABLE pgsession.sessions RESET (autovacuum_vacuum_cost_limit)");
my $waited = Time::HiRes::time() - $t0;
note sprintf('ALTER TABLE waited %.2f s for the vacuum', $waited);
cmp_ok($waited, '<', 10, 'an ALTER TABLE waiting for the vacuum\'s lock cancels it');
$node->wait_for_log(
    qr/stopped vacuuming pgsession.sessions in database "postgres": another session waited for a lock it held/,
    $offset);
pass('the worker says why it stopped vacuuming');
ok(defined wait_for_value($node, 'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE $worker", '0', 30),
    'and exits');
is($node->safe_psql('postgres', 'SELECT last_run_result FROM session_stats()'), 'ok',
    'the run is still reported ok');

# DROP DATABASE terminates it instead of waiting 5 s for it to leave (and failing).
slow_table('slow');
$offset = start_run('slow', 1);
$t0 = Time::HiRes::time();
my ($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE slow');
my $drop_s = Time::HiRes::time() - $t0;
note sprintf('DROP DATABASE took %.2f s', $drop_s);
is($rc, 0, 'DROP DATABASE of a database the worker is vacuuming succeeds') or diag $err;
cmp_ok($drop_s, '<', 4, 'well within the 5 s it waits for other sessions');

is(log_count($node, qr/ERROR|WARNING/), 0, 'no error or warning in the log');

done_testing();
