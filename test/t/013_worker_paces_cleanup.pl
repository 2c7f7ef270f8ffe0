# The worker paces a cleanup to pgsession.cleanup_wal_rate_limit: before each batch it
# waits until the WAL written since the previous batch began, at the limit, would have
# taken that long.  Its log line says how long it waited and before how many batches, or
# that it did not pace; a reload during a pause applies to that pause; and a DROP DATABASE
# during a pause far longer than the 5 s it waits for other sessions goes through at once.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

# Batches of 100 write at least 100 delete records of some 50 bytes (5 kB) each: at 8kB/s
# every pause after a full batch is at least 0.6 s.
my $node = new_worker_node('pacing',
    conf => [ 'pgsession.cleanup_batch_size = 100', 'pgsession.cleanup_interval = 3600',
        "pgsession.cleanup_wal_rate_limit = '8kB'", "pgsession.databases = 'postgres, gone'" ]);
$node->safe_psql('postgres', 'CREATE DATABASE gone');
$node->safe_psql('gone', 'CREATE EXTENSION pgsession');

# Starts one run now (the interval is an hour otherwise) and returns the log offset: a
# 1 s interval until a run has started in database `db`.
sub run_now {
    my ($db) = @_;
    $db //= 'postgres';
    my $offset = -s $node->logfile;
    my $since = $node->safe_psql($db, 'SELECT now()');
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
    wait_for_value($node, $db,
        "SELECT last_run_started_at >= '$since' FROM session_stats()", 't', 30);
    $node->safe_psql('postgres',
        "ALTER SYSTEM SET pgsession.cleanup_interval = 3600; SELECT pg_reload_conf()");
    return $offset;
}

# --- paced: 3 full batches, then the one that finds the rest empty
insert_expired_sessions($node, 'postgres', 300);
my $offset = run_now();
$node->wait_for_log(qr/removed 300 expired sessions from database "postgres"/, $offset);
my ($line) = slurp_file($node->logfile, $offset) =~ /(pgsession cleanup worker: removed 300 .*)/;
note $line;
like($line,
    qr/in 4 batches \([\d.]+ ms, paced: waited [\d.]+ ms in 3 pauses, pgsession\.cleanup_wal_rate_limit = 8kB\/s\)/,
    'the log line says the run paced, how long it waited and the limit');
my ($total_ms, $waited_ms) = $line =~ /\(([\d.]+) ms, paced: waited ([\d.]+) ms/;
# Each batch and the pause after it last at least the batch's WAL at 8kB/s (0.6 s); the
# pauses alone, that minus the batches' own time.
cmp_ok($total_ms, '>=', 1800, 'three full batches and their pauses last their WAL at 8kB/s');
cmp_ok($waited_ms, '>=', 1000, 'most of it is spent in the pauses');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgsession.sessions'), '0',
    'a paced run still removes every expired session');

# --- a reload during a pause applies to it: 0 ends the pacing
$node->safe_psql('postgres', 'TRUNCATE pgsession.sessions');
insert_expired_sessions($node, 'postgres', 300);
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_wal_rate_limit = '1kB'; SELECT pg_reload_conf()");
$offset = run_now();
isnt(wait_for_worker_mid_run($node, 'postgres', 300), '', 'a paced run is under way');
my $t0 = time;
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_wal_rate_limit = 0; SELECT pg_reload_conf()");
$node->wait_for_log(qr/removed 300 expired sessions from database "postgres"/, $offset);
my $after_reload = time - $t0;
note sprintf('the run ended %.2f s after the limit was set to 0', $after_reload);
cmp_ok($after_reload, '<', 4,
    'the pause in progress ends at the reload (at 1kB/s one pause lasts 5 s or more)');

# --- not paced
$node->safe_psql('postgres', 'TRUNCATE pgsession.sessions');
insert_expired_sessions($node, 'postgres', 300);
$offset = run_now();
$node->wait_for_log(qr/removed 300 expired sessions from database "postgres"/, $offset);
like(slurp_file($node->logfile, $offset),
    qr/removed 300 expired sessions from database "postgres" in 4 batches \([\d.]+ ms, not paced: no WAL rate limit\)/,
    'with the limit 0 the log line says the run did not pace');

# --- DROP DATABASE during a long pause
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_wal_rate_limit = '1kB'; SELECT pg_reload_conf()");
insert_expired_sessions($node, 'gone', 1000);
$offset = run_now('gone');
isnt(wait_for_worker_mid_run($node, 'gone', 1000), '', 'a worker pauses in the run of "gone"');
$t0 = time;
my ($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE gone');
my $drop_s = time - $t0;
note sprintf('DROP DATABASE took %.2f s', $drop_s);
is($rc, 0, 'DROP DATABASE of a database whose cleanup is pausing succeeds') or diag $err;
cmp_ok($drop_s, '<', 3, 'well within the 5 s it waits for other sessions');
like(slurp_file($node->logfile, $offset),
    qr/stopping the run in database "gone" after \d+ batch(es)? \(\d+ expired sessions removed, [\d.]+ ms, paced: waited [\d.]+ ms in \d+ pauses?, pgsession.cleanup_wal_rate_limit = 1kB\/s\): another session wants the database to itself/,
    'the worker says it stopped for it, and that it paced');

# --- the setting: superusers only, a size per second, never negative
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
($rc, $out, $err) = $node->psql('postgres', 'SET pgsession.cleanup_wal_rate_limit = 0',
    extra_params => [ '-U', 'app' ]);
like($err, qr/permission denied to set parameter "pgsession.cleanup_wal_rate_limit"/,
    'an ordinary role cannot turn the pacing off');
($rc, $out, $err) = $node->psql('postgres', "SET pgsession.cleanup_wal_rate_limit = '-1'");
like($err, qr/-1 kB is outside the valid range for parameter "pgsession.cleanup_wal_rate_limit"/,
    'a negative limit is refused');
($rc, $out, $err) = $node->psql('postgres', "SET pgsession.cleanup_wal_rate_limit = 'fast'");
like($err, qr/invalid value for parameter "pgsession.cleanup_wal_rate_limit": "fast"/,
    'a limit that is not a size is refused');
is($node->safe_psql('postgres', 'SHOW pgsession.cleanup_wal_rate_limit'), '1kB',
    'SHOW gives the limit with its unit');

done_testing();
