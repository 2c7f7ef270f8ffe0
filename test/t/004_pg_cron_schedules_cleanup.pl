# Without the preload: session_schedule_cleanup() has pg_cron 1.4 run session_cleanup(),
# which removes expired sessions; it explains itself where pg_cron is missing and
# refuses intervals pg_cron cannot keep; session_unschedule_cleanup() removes the job.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_worker_node('cron', preload => 0,
    conf => [ "shared_preload_libraries = 'pg_cron'", "cron.database_name = 'postgres'",
              'cron.use_background_workers = on' ]);
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other',    'CREATE EXTENSION pgsession');

# Runs `sql` in `db` expecting an error; returns "SQLSTATE|message|hint".
sub error_of {
    my ($db, $sql) = @_;
    my ($rc, $out, $err) = $node->psql($db,
        "\\set VERBOSITY verbose\n$sql", on_error_stop => 1);
    my ($state, $message) = $err =~ /ERROR:\s+([0-9A-Z]{5}): (.*)/;
    my ($hint) = $err =~ /HINT:\s+(.*)/;
    return join '|', $state // '', $message // '', $hint // '';
}

# --- no pg_cron
like(error_of('postgres', 'SELECT session_schedule_cleanup()'),
    qr/^55000\|pg_cron is not installed\|Add pg_cron to shared_preload_libraries/,
    'without the pg_cron extension: SQLSTATE 55000 and a hint');
like(error_of('other', 'SELECT session_unschedule_cleanup()'),
    qr/^55000\|pg_cron is not installed in database "other"\|In database "postgres", run: SELECT cron.schedule_in_database\('pgsession-cleanup-other'/,
    'in a database other than cron.database_name: the call to make there');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');

# --- schedule, and the cleanup it runs
create_sessions($node, 'postgres', 'live',  10, '1 hour');
create_sessions($node, 'postgres', 'short', 30, '1 second');
my $job = $node->safe_psql('postgres', "SELECT session_schedule_cleanup('2 hours')");
like($job, qr/^\d+$/, 'session_schedule_cleanup returns the job id');
is($node->safe_psql('postgres', 'SELECT schedule, command, database FROM cron.job'),
    '0 */2 * * *|CALL public.session_cleanup_in_batches()|postgres', 'a two-hour job');
$node->safe_psql('postgres', "SELECT session_schedule_cleanup('1 minute')");
is($node->safe_psql('postgres', "SELECT string_agg(schedule, ',') FROM cron.job"),
    '* * * * *', 'scheduling again replaces the job');

# --- the schedules pg_cron can and cannot keep (checked while the job waits)
my @cron = map {
    $node->safe_psql('postgres',
        "BEGIN; SELECT FROM session_schedule_cleanup('$_'); SELECT schedule FROM cron.job; ROLLBACK")
} ('15 minutes', '1 hour', '6 hours', '1 day');
is(join(',', @cron), '*/15 * * * *,0 * * * *,0 */6 * * *,0 0 * * *',
    'minutes and hours that divide an hour or a day become cron schedules');
for my $bad ('30 seconds', '7 minutes', '90 minutes', '2 days', '1 month', '-5 minutes') {
    like(error_of('postgres', "SELECT session_schedule_cleanup('$bad')"),
        qr/^22023\|pg_cron cannot run the cleanup every /, "'$bad' is refused (22023)");
}
is($node->safe_psql('postgres',
        "CREATE ROLE app; SELECT bool_or(has_function_privilege('app', f, 'EXECUTE')) "
      . "FROM unnest(ARRAY['session_stats()', 'session_schedule_cleanup(interval)', "
      . "'session_unschedule_cleanup()']) f"),
    'f', 'PUBLIC may not execute the stats and scheduling functions');
is($node->safe_psql('postgres', 'SELECT worker_pid, last_run_result FROM session_stats()'),
    '|no worker: pgsession is not in shared_preload_libraries',
    'session_stats() works without the preload');

# pg_cron starts jobs at the top of a minute.
ok(defined wait_for_value($node, 'postgres',
        'SELECT expired_sessions, live_sessions FROM session_stats()', '0|10', 90),
    'the pg_cron job removed the expired sessions and kept the live ones');
ok(defined wait_for_value($node, 'postgres',
        "SELECT status FROM cron.job_run_details ORDER BY runid LIMIT 1", 'succeeded', 10),
    'pg_cron recorded the run as succeeded');

# --- unschedule
is($node->safe_psql('postgres', 'SELECT session_unschedule_cleanup()'), 't',
    'session_unschedule_cleanup removes the job');
is($node->safe_psql('postgres', 'SELECT session_unschedule_cleanup(), count(*) FROM cron.job'),
    'f|0', 'a second call finds none');

$node->stop;
done_testing();
