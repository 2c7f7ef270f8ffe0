# Without the preload: session_schedule_cleanup() has pg_cron 1.4 run
# session_cleanup_in_batches(), which removes expired sessions, also beside a procedure of
# that name planted in public; it explains itself where pg_cron is missing, calls only the
# pg_cron extension's own objects (not a schema cron a database owner made) and refuses
# intervals pg_cron cannot keep; session_unschedule_cleanup() removes the job.
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
is(error_of('other', 'SELECT session_unschedule_cleanup()'),
    q{55000|pg_cron is not installed in database "other"|In database "postgres", run: }
      . q{SELECT cron.schedule_in_database('pgsession-cleanup-other', '*/15 * * * *', }
      . q{'CALL public.session_cleanup_in_batches(batch_size => NULL::integer)', 'other');},
    'in a database other than cron.database_name: the call to make there, with the schema');
like(error_of('other', "SELECT session_schedule_cleanup('7 minutes')"),
    qr/^22023\|pg_cron cannot run the cleanup every /,
    'there, an interval pg_cron cannot keep is reported first');

# A fake pg_cron: the (non-superuser) owner of database "other" makes a schema cron with
# functions and a view named like pg_cron's; a superuser scheduling there runs none of it.
$node->safe_psql('postgres', 'CREATE ROLE db_owner; ALTER DATABASE other OWNER TO db_owner');
$node->safe_psql('other', q{
    SET ROLE db_owner;
    CREATE SCHEMA cron;
    CREATE TABLE cron.calls (fn text, by_user name);
    CREATE FUNCTION cron.schedule(text, text, text) RETURNS bigint LANGUAGE sql
        AS $$ INSERT INTO cron.calls VALUES ('schedule', current_user) RETURNING 1::bigint $$;
    CREATE FUNCTION cron.unschedule(bigint) RETURNS boolean LANGUAGE sql
        AS $$ INSERT INTO cron.calls VALUES ('unschedule', current_user) RETURNING true $$;
    CREATE VIEW cron.job AS SELECT 1::bigint AS jobid, 'pgsession-cleanup-other'::text AS jobname,
        current_user::text AS username;
});
like(error_of('other', 'SELECT session_schedule_cleanup()') . error_of('other', 'SELECT session_unschedule_cleanup()'),
    qr/^55000\|pg_cron is not installed in database "other"\|.*55000\|pg_cron is not installed in database "other"\|/,
    'a schema cron that a database owner made is not pg_cron: both functions refuse');
is($node->safe_psql('other', 'SELECT count(*) FROM cron.calls'), '0', 'and none of its functions ran');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');

# pg_cron's objects must be its own and owned by a superuser: a schedule(text, text, text)
# handed to another role is refused.
$node->safe_psql('postgres', 'CREATE ROLE planter; GRANT CREATE ON SCHEMA public TO planter');
like(error_of('postgres', 'BEGIN; ALTER FUNCTION cron.schedule(text, text, text) OWNER TO planter; '
        . 'SELECT session_schedule_cleanup()'),
    qr/^55000\|pg_cron \S+ is not one pgsession can use\|Install pg_cron again as a superuser/,
    'pg_cron whose schedule() a non-superuser owns: refused (55000)');

# A role that may create objects in public plants a procedure session_cleanup_in_batches
# without arguments beside pgsession's (0.1.0's job, CALL ...(), was ambiguous then).
$node->safe_psql('postgres', q{
    SET ROLE planter;
    CREATE TABLE public.planted_calls (by_user name);
    GRANT INSERT ON public.planted_calls TO PUBLIC;
    CREATE PROCEDURE public.session_cleanup_in_batches() LANGUAGE sql
        AS $$ INSERT INTO public.planted_calls VALUES (current_user) $$;
});

# --- schedule, and the cleanup it runs
create_sessions($node, 'postgres', 'live',  10, '1 hour');
create_sessions($node, 'postgres', 'short', 30, '1 second');
my $job = $node->safe_psql('postgres', "SELECT session_schedule_cleanup('2 hours')");
like($job, qr/^\d+$/, 'session_schedule_cleanup returns the job id');
is($node->safe_psql('postgres', 'SELECT schedule, command, database FROM cron.job'),
    '0 */2 * * *|CALL public.session_cleanup_in_batches(batch_size => NULL::integer)|postgres',
    'a two-hour job, whose command names the procedure with its schema and a typed argument');
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
    'pg_cron recorded the run as succeeded, beside the planted procedure');
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.planted_calls'), '0',
    'the planted procedure never ran');

# --- unschedule
is($node->safe_psql('postgres', 'SELECT session_unschedule_cleanup()'), 't',
    'session_unschedule_cleanup removes the job');
is($node->safe_psql('postgres', 'SELECT session_unschedule_cleanup(), count(*) FROM cron.job'),
    'f|0', 'a second call finds none');

# --- a role an administrator granted the two functions (pg_cron makes cron.database_name
# readable by superusers only: reading it failed for such a role with 42501)
$node->safe_psql('postgres', q{
    CREATE ROLE cronner;
    GRANT EXECUTE ON FUNCTION session_schedule_cleanup(interval), session_unschedule_cleanup() TO cronner;
    GRANT EXECUTE ON PROCEDURE session_cleanup_in_batches(integer) TO cronner;
    GRANT EXECUTE ON FUNCTION pgsession.cleanup_batch(integer) TO cronner;
    GRANT USAGE ON SCHEMA cron TO cronner});
like($node->safe_psql('postgres', "SET ROLE cronner; SELECT session_schedule_cleanup('5 minutes')"),
    qr/^\d+$/, 'a granted role schedules the cleanup');
is($node->safe_psql('postgres', 'SELECT username, schedule FROM cron.job'), 'cronner|*/5 * * * *',
    'as its own job');
is($node->safe_psql('postgres', 'SET ROLE cronner; SELECT session_unschedule_cleanup()'), 't',
    'and unschedules it');

$node->stop;
done_testing();
