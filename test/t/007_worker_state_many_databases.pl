# session_stats() tells the truth for every listed database: past the 64th (shared memory
# is sized from the list at server start), for databases a reload adds beyond that ("not
# tracked", and cleaned all the same), with the worker off, and when the launcher could
# not be registered.  Skip messages of untracked databases are logged once, too.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

# 69 missing databases, then appdb: 70 listed, 140 slots.
my $list = join(', ', (map { sprintf('d%02d', $_) } 1 .. 69), 'appdb');
my $node = new_worker_node('manydbs', conf => ["pgsession.databases = '$list'"]);
$node->safe_psql('postgres', 'CREATE DATABASE appdb');
$node->safe_psql('postgres', 'CREATE DATABASE appdb2');
$node->safe_psql('appdb',  'CREATE EXTENSION pgsession');
$node->safe_psql('appdb2', 'CREATE EXTENSION pgsession');

create_sessions($node, 'appdb', 'short', 20, '1 second');
ok(defined wait_for_value($node, 'appdb',
        'SELECT expired_sessions, last_run_result, last_run_removed > 0 '
          . 'OR removed_since_start > 0 FROM session_stats()', '0|ok|t', 15),
    'the 70th listed database is cleaned and session_stats() reports its runs');
is($node->safe_psql('postgres', 'SELECT last_run_result FROM session_stats()'),
    'not served: the database is not in pgsession.databases', 'an unlisted one says so');

# A reload lists 140 new (missing) names, then appdb2 and appdb: appdb keeps its slot, the
# 139 free ones go to e001..e139, and e140 and appdb2 are not tracked.
my $offset = -s $node->logfile;
my $more = join(', ', (map { sprintf('e%03d', $_) } 1 .. 140), 'appdb2', 'appdb');
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.databases = '$more'; SELECT pg_reload_conf()");
create_sessions($node, 'appdb2', 'short', 20, '1 second');
ok(defined wait_for_value($node, 'appdb2', 'SELECT count(*) FROM pgsession.sessions', '0', 15),
    'an untracked database is cleaned all the same');
like($node->safe_psql('appdb2', 'SELECT last_run_result FROM session_stats()'),
    qr/^not tracked: pgsession.databases lists more databases than the 140 whose state /,
    'session_stats() says it is not tracked');
create_sessions($node, 'appdb', 'again', 20, '1 second');
ok(defined wait_for_value($node, 'appdb',
        'SELECT expired_sessions, last_run_result FROM session_stats()', '0|ok', 15),
    'a tracked database is still reported');
sleep 3;    # a few more runs
is(log_count($node, qr/skipping database "e140": it does not exist/, $offset), 1,
    'an untracked missing database is skipped with one log line');
is(log_count($node, qr/skipping database "e139": it does not exist/, $offset), 1,
    'a tracked one too');

# pgsession.cleanup_worker = off
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_worker = off; SELECT pg_reload_conf()");
ok(defined wait_for_value($node, 'appdb',
        'SELECT last_run_result, next_run_at IS NULL FROM session_stats()',
        'no worker: pgsession.cleanup_worker is off|t', 10),
    'with the worker off session_stats() says there is no worker and why');
$node->stop;

# The launcher could not be registered: no room under max_worker_processes.
my $full = new_worker_node('noroom', conf => ['max_worker_processes = 0']);
ok($full->log_contains(qr/too many background workers/), 'the postmaster refused the launcher');
like($full->safe_psql('postgres', 'SELECT worker_pid, last_run_result FROM session_stats()'),
    qr/^\|no worker: the launcher could not be registered at server start \(max_worker_processes = 0 is too low\)/,
    'session_stats() says the launcher could not be registered, and why');
$full->stop;

done_testing();
