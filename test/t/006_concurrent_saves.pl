# session_save under concurrency, as a framework store calls it: 8 clients saving the
# same 4 session ids for 3 seconds never fail, never retry and leave no ERROR in the
# server log, and the ids end up as 4 sessions holding one client's last save each.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_worker_node('saves', preload => 0);
my $offset = -s $node->logfile;

$node->pgbench(
    '--no-vacuum --client=8 --jobs=2 --time=3 --protocol=prepared',
    0,
    [qr{actually processed: [1-9]\d*}, qr{number of failed transactions: 0 }],
    [qr{^$}],
    'concurrent session_save of 4 shared ids: every transaction succeeds',
    {
        '006_save' => q{
\set id random(1, 4)
\set n random(1, 1000000)
SELECT session_save('concurrently-saved-' || lpad((:id)::int::text, 4, '0'),
                    jsonb_build_object('cookie', jsonb_build_object('maxAge', 600000), 'n', :n::int),
                    sub => 'user-' || :id::int, idle_timeout => '10 minutes');
}
    });

is(log_count($node, qr/ERROR:/, $offset), 0, 'the server logged no ERROR during the saves');
is( $node->safe_psql(
        'postgres',
        "SELECT count(*) FROM pgsession.sessions WHERE id_hash IN (SELECT sha256(convert_to("
          . "'concurrently-saved-' || lpad(g::text, 4, '0'), 'UTF8')) FROM generate_series(1, 4) g)"),
    '4',
    'the four ids are four sessions');
is( $node->safe_psql(
        'postgres',
        "SELECT count(*) FROM generate_series(1, 4) g, session_get('concurrently-saved-' || lpad(g::text, 4, '0')) s "
          . "WHERE s.sub = 'user-' || g AND s.data ? 'n'"),
    '4',
    'each holds a whole save (its own sub and a data object)');
$node->stop;
done_testing();
