# DROP DATABASE (and the other commands that want a database to themselves) go through
# while the worker is in the middle of a run far longer than the 5 s PostgreSQL waits for
# other sessions to leave: the worker stops between two batches and says so, and the
# launcher carries on with the next database.  A listed database dropped during the run
# of another is skipped with one log line, never connected to by its old OID; one that
# another session has to itself is skipped until it is free; one created after the
# launcher's last run reads "not yet run"; DROP DATABASE ... WITH (FORCE) of the database
# being cleaned is a dropped database, not a failed run.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $bulk = 300000;
# Batches of 10: a run over $bulk sessions lasts well over 5 s (some 11 s here).
my $node = new_worker_node('dropdb',
    conf => [ 'pgsession.cleanup_batch_size = 10', 'pgsession.cleanup_interval = 3600' ]);
for my $db (qw(d5 d6 d2b other)) {
    $node->safe_psql('postgres', "CREATE DATABASE $db");
    $node->safe_psql($db, 'CREATE EXTENSION pgsession');
}
insert_expired_sessions($node, $_, $bulk) for qw(d5 d6);
insert_expired_sessions($node, 'other', 20);
# Listed once they exist (a reload starts no run).
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.databases = 'd5, d6, d2b, other'; SELECT pg_reload_conf()");

# Seconds a statement took, and its error ('' when it succeeded).
sub timed {
    my ($db, $sql) = @_;
    my $t0 = time;
    my ($rc, $out, $err) = $node->psql($db, $sql);
    return (time - $t0, $rc == 0 ? '' : $err);
}

# --- the run: d5, then d6, then d2b, then other
my $offset = -s $node->logfile;
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
isnt(wait_for_worker_mid_run($node, 'd5', $bulk), '', 'a worker is in the middle of the run of d5');
# One run only, until the test asks for the next.
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 3600; SELECT pg_reload_conf()");
my $left = $node->safe_psql('d5', 'SELECT count(*) FROM pgsession.sessions');

# A listed database further down the list is dropped during the run of d5.
$node->safe_psql('postgres', 'DROP DATABASE d2b');

my ($drop_s, $drop_err) = timed('postgres', 'DROP DATABASE d5');
note sprintf('DROP DATABASE d5 took %.2f s with %d of %d sessions left to remove', $drop_s,
    $left, $bulk);
is($drop_err, '', 'DROP DATABASE of the database being cleaned succeeds');
cmp_ok($drop_s, '<', 3, 'well within the 5 s it waits for other sessions');
like(slurp_file($node->logfile, $offset),
    qr/pgsession cleanup worker: stopping the run in database "d5" after \d+ batches \(\d+ expired sessions removed, [\d.]+ ms, (not paced|paced: [^)]*)\): another session wants the database to itself \(DROP DATABASE, ALTER DATABASE \.\.\. RENAME or SET TABLESPACE, CREATE DATABASE \.\.\. TEMPLATE\)/,
    'the worker says why it stopped');

# The launcher goes on with d6; CREATE DATABASE ... TEMPLATE d6 needs d6 to itself too.
isnt(wait_for_worker_mid_run($node, 'd6', $bulk), '', 'the launcher goes on with d6');
my ($copy_s, $copy_err) = timed('postgres', 'CREATE DATABASE d6copy TEMPLATE d6 STRATEGY FILE_COPY');
note sprintf('CREATE DATABASE ... TEMPLATE d6 took %.2f s', $copy_s);
is($copy_err, '', 'CREATE DATABASE from the database being cleaned as template succeeds');
cmp_ok($copy_s, '<', 4, 'promptly');

ok(defined wait_for_value($node, 'other',
        'SELECT expired_sessions, last_run_result FROM session_stats()', '0|ok', 30),
    'the launcher carries on with the last listed database');
like($node->safe_psql('d6',
        'SELECT last_run_result, last_run_removed > 0, last_run_removed < '
          . "$bulk, expired_sessions > 0 FROM session_stats()"),
    qr/^stopped: another session wanted the database to itself \(DROP DATABASE, ALTER DATABASE \.\.\. RENAME or SET TABLESPACE, CREATE DATABASE \.\.\. TEMPLATE\); the next run carries on\|t\|t\|t$/,
    'session_stats() says the run stopped, and what it removed');
is(log_count($node, qr/skipping database "d2b": it does not exist/, $offset), 1,
    'the database dropped during the run is skipped with one log line');
is(log_count($node, qr/FATAL/, $offset), 0, 'no worker was started for a dropped database');

# --- a listed database created after the launcher's last run
$node->safe_psql('postgres', 'CREATE DATABASE d2b');
$node->safe_psql('d2b', 'CREATE EXTENSION pgsession');
is($node->safe_psql('d2b', 'SELECT last_run_result, next_run_at IS NOT NULL FROM session_stats()'),
    "not yet run: the database is newer than the launcher's last run; the next run cleans it|t",
    'a listed database created after the last run reads "not yet run"');

# --- the next run: DROP DATABASE ... WITH (FORCE) terminates the worker of d6 in a batch
# that waits for a table lock, and a database another session has to itself (its rename
# is not committed yet) is skipped
insert_expired_sessions($node, 'other', 20);
my $renamer = $node->background_psql('postgres');
$renamer->query_safe('BEGIN');
$renamer->query_safe('ALTER DATABASE other RENAME TO other_renamed');
my $holder = $node->background_psql('d6');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE pgsession.sessions IN ACCESS EXCLUSIVE MODE');
$offset = -s $node->logfile;
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
ok(defined wait_for_value($node, 'postgres',
        "SELECT wait_event_type FROM pg_stat_activity WHERE backend_type = "
          . "'pgsession cleanup worker' AND datname = 'd6'", 'Lock', 10),
    'the worker of d6 waits for the table lock');
$node->safe_psql('postgres', 'DROP DATABASE d6 WITH (FORCE)');
eval { $holder->quit };
# The worker is terminated (the launcher says what became of d6), or, when the holder's
# exit lets its batch end first, stops before the next one.
$node->wait_for_log(
    qr/pgsession cleanup (?:launcher: database "d6" was dropped during its run|launcher: the worker for database "d6" exited during its run: another session wants the database to itself|worker: stopping the run in database "d6")/,
    $offset);
pass('a forced drop during the run is reported as such');
$node->wait_for_log(
    qr/pgsession cleanup launcher: skipping database "other": another session wants the database to itself/,
    $offset);
pass('the launcher skips a database whose rename is not committed yet');
$renamer->query_safe('ROLLBACK');
$renamer->quit;
ok(defined wait_for_value($node, 'other',
        'SELECT expired_sessions, last_run_result FROM session_stats()', '0|ok', 30),
    'once it is free the next run cleans it');
is($node->safe_psql('d2b', 'SELECT last_run_result FROM session_stats()'), 'ok',
    'and the database created after the first run has had its run');
is(log_count($node, qr/skipping database "d5": it does not exist/, $offset), 1,
    'the dropped d5 is skipped with one log line');
is(log_count($node, qr/FATAL:  database .* does not exist/, $offset), 0,
    'no worker was started for a dropped database');
is(log_count($node, qr/the worker for database "d6" exited before finishing/, $offset), 0,
    'the forced drop is not a failed run');

$node->stop;
done_testing();
