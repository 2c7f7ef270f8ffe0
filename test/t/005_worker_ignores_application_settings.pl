# The worker is not at the mercy of settings meant for applications: a database whose
# default transactions are SERIALIZABLE and read-only, whose role has a 1 ms statement and
# lock timeout, with session_replication_role = replica, exit_on_error = on and its own
# pgsession.cleanup_batch_size, is cleaned all the same, by read-write READ COMMITTED
# batches of the server's size.  A trigger on the table records what the worker's
# transactions really run with: it fires on the rows a batch deletes through SQL, and on
# the live rows it reschedules (sessions accessed since they were due: here, live
# sessions whose cleanup_after the test moves back).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_worker_node('appsettings',
    conf => ["pgsession.databases = 'postgres, appdb'", 'pgsession.cleanup_batch_size = 1000']);
$node->safe_psql('postgres', 'CREATE DATABASE appdb');
$node->safe_psql('appdb', q{
CREATE EXTENSION pgsession;
CREATE TABLE public.worker_seen (application_name text, isolation text, read_only text,
    statement_timeout text, lock_timeout text, exit_on_error text, batch_size text,
    replication_role text);
CREATE FUNCTION public.record_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('application_name') <> 'pgsession cleanup worker' THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    INSERT INTO public.worker_seen VALUES (current_setting('application_name'),
        current_setting('transaction_isolation'), current_setting('transaction_read_only'),
        current_setting('statement_timeout'), current_setting('lock_timeout'),
        current_setting('exit_on_error'), current_setting('pgsession.cleanup_batch_size'),
        current_setting('session_replication_role'));
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER record_settings BEFORE DELETE OR UPDATE ON pgsession.sessions
    FOR EACH ROW EXECUTE FUNCTION public.record_settings();
});

# What an application's administrator might set for the database and its roles.
$node->safe_psql('postgres', q{
ALTER DATABASE appdb SET default_transaction_isolation = 'serializable';
ALTER DATABASE appdb SET default_transaction_read_only = on;
ALTER DATABASE appdb SET session_replication_role = replica;
ALTER DATABASE appdb SET exit_on_error = on;
ALTER DATABASE appdb SET pgsession.cleanup_batch_size = 5;
ALTER ROLE postgres IN DATABASE appdb SET statement_timeout = '1ms';
ALTER ROLE postgres IN DATABASE appdb SET lock_timeout = '1ms';
});

# The settings do reach an ordinary session of the database (but for the 1 ms
# statement_timeout, which would cancel this very query on a busy machine)...
{
    local $ENV{PGOPTIONS} = '-c statement_timeout=0';
    is($node->safe_psql('appdb',
            "SELECT string_agg(current_setting(name), '|') FROM unnest(ARRAY["
              . "'default_transaction_isolation', 'default_transaction_read_only', "
              . "'session_replication_role', 'exit_on_error', 'pgsession.cleanup_batch_size', "
              . "'lock_timeout']) AS name"),
        'serializable|on|replica|on|5|1ms', 'an ordinary session of appdb gets the settings');
}

# ... so the test's own sessions override them on the command line.
$ENV{PGOPTIONS} = '-c default_transaction_read_only=off -c statement_timeout=0 '
  . '-c lock_timeout=0 -c session_replication_role=origin -c exit_on_error=off';
# Live sessions that are due for a look (as if accessed since cleanup_after was set).
sub create_due_live_sessions {
    my ($prefix) = @_;
    create_sessions($node, 'appdb', $prefix, 10, '1 hour');
    $node->safe_psql('appdb',
        "UPDATE pgsession.sessions SET cleanup_after = now() - interval '1 minute' "
          . "WHERE expires_at > now() + interval '30 minutes' AND cleanup_after > now()");
}
create_due_live_sessions('live');
create_sessions($node, 'appdb', 'short', 30, '1 second');
my $offset = -s $node->logfile;
my $due = "SELECT count(*) FROM pgsession.sessions WHERE cleanup_after <= now()";
ok(defined wait_for_value($node, 'appdb', $due, '0', 15),
    'the worker removes the expired sessions of that database and reschedules the live ones');
is(count_sessions($node, 'appdb', 'live', 10), '10', 'the live sessions stay');
is($node->safe_psql('appdb',
        'SELECT DISTINCT application_name, isolation, read_only, statement_timeout, '
          . 'lock_timeout, exit_on_error, batch_size, replication_role FROM public.worker_seen'),
    'pgsession cleanup worker|read committed|off|5min|10s|off|1000|origin',
    'its batches run read-write, READ COMMITTED, with its own timeouts and the server\'s '
      . 'batch size');
cmp_ok($node->safe_psql('appdb', 'SELECT count(*) FROM public.worker_seen'), '>=', 10,
    'the trigger fired in the worker\'s transactions');
$node->wait_for_log(qr/removed 30 expired sessions from database "appdb" in (\d+) batch/,
    $offset);
my ($batches) = slurp_file($node->logfile, $offset)
  =~ /removed 30 expired sessions from database "appdb" in (\d+) batch/;
is($batches, 1, 'one batch of the server\'s 1000, not seven of the database\'s 5');
is(log_count($node, qr/read-only transaction|statement timeout|lock timeout|FATAL/, $offset), 0,
    'no run failed');

# The same holds server-wide: postgresql.conf defaults for applications do not reach the
# worker either, while its batch size still follows the server's setting.
$node->append_conf('postgresql.conf',
    "default_transaction_read_only = on\ndefault_transaction_isolation = 'serializable'\n"
      . "pgsession.cleanup_batch_size = 7\n");
$node->reload;
$node->safe_psql('appdb', 'TRUNCATE public.worker_seen');
$offset = -s $node->logfile;
create_due_live_sessions('live2');
create_sessions($node, 'appdb', 'more', 20, '1 second');
ok(defined wait_for_value($node, 'appdb', $due, '0', 15),
    'with read-only SERIALIZABLE server defaults the worker still cleans');
$node->wait_for_log(qr/removed 20 expired sessions from database "appdb" in (\d+) batch/,
    $offset);
($batches) = slurp_file($node->logfile, $offset)
  =~ /removed 20 expired sessions from database "appdb" in (\d+) batch/;
cmp_ok($batches, '>=', 3, 'in batches of the reloaded server value (7), not 1000');
is($node->safe_psql('appdb', 'SELECT DISTINCT isolation, read_only, batch_size FROM '
        . 'public.worker_seen'), 'read committed|off|7', 'and in read-write READ COMMITTED');

$node->stop;
done_testing();
