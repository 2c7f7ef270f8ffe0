# pgsession.databases is checked: ALTER SYSTEM refuses a malformed list with 22023 and says
# what is wrong; a malformed list written to postgresql.conf and reloaded is logged and
# leaves the list in force (the worker keeps cleaning); at server start it falls back to
# the default with a warning.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = new_worker_node('dbsetting', conf => ["pgsession.databases = 'postgres, appdb'"]);
$node->safe_psql('postgres', 'CREATE DATABASE appdb');
$node->safe_psql('appdb', 'CREATE EXTENSION pgsession');

my $long = 'd' x 64;
my @bad = (
    [ 'postgres,',        qr/The list ends with a comma\./ ],
    [ ',postgres',        qr/The list begins with a comma\./ ],
    [ 'postgres,,appdb',  qr/Entry 2 is empty: two commas follow each other\./ ],
    [ 'postgres, "appdb', qr/Entry 2 opens a double quote that is never closed\./ ],
    [ 'postgres, ""',     qr/Entry 2 is an empty quoted name\./ ],
    [ "postgres, $long",  qr/Database name "$long" is 64 bytes long; a name has at most 63\./ ],
    [ 'my db',            qr/Entry 1, "my", is followed by "db" where a comma or the end/ ],
);
for my $case (@bad) {
    my ($value, $detail) = @$case;
    my ($rc, $out, $err) = $node->psql('postgres',
        "\\set VERBOSITY verbose\nALTER SYSTEM SET pgsession.databases = '$value'");
    isnt($rc, 0, "ALTER SYSTEM refuses '$value'");
    like($err,
        qr/ERROR:  22023: invalid value for parameter "pgsession.databases": "\Q$value\E"/,
        "... with SQLSTATE 22023 naming the value");
    like($err, $detail, '... and a detail that says what is wrong');
}
my ($rc, $out, $err) = $node->psql('postgres',
    "ALTER SYSTEM SET pgsession.databases = 'postgres,'");
like($err, qr/HINT:  Separate database names with commas/, 'the hint shows the syntax');

for my $good ('', 'postgres', ' postgres ,  appdb ', '"a,b", "say ""hi""", ' . ('e' x 63)) {
    ($rc, $out, $err) = $node->psql('postgres',
        "ALTER SYSTEM SET pgsession.databases = '$good'");
    is("$rc|$err", '0|', "ALTER SYSTEM accepts '$good'");
}
$node->safe_psql('postgres', 'ALTER SYSTEM RESET pgsession.databases');

# A malformed value in postgresql.conf: the reload logs why and keeps the list in force.
my $offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "pgsession.databases = 'postgres,'\n");
$node->reload;
$node->wait_for_log(qr/configuration file .* contains errors/, $offset);
like(slurp_file($node->logfile, $offset),
    qr/invalid value for parameter "pgsession.databases": "postgres,"\n.*DETAIL:  The list ends with a comma\./,
    'the reload logs the refused value and why');
is($node->safe_psql('postgres', 'SHOW pgsession.databases'), 'postgres, appdb',
    'SHOW still gives the list in force');
create_sessions($node, 'appdb', 'short', 20, '1 second');
ok(defined wait_for_value($node, 'appdb', 'SELECT count(*) FROM pgsession.sessions', '0', 10),
    'the worker still cleans the second database of the list in force');
is($node->safe_psql('appdb', 'SELECT last_run_result FROM session_stats()'), 'ok',
    'session_stats() there reports its runs');
is(log_count($node, qr/not a valid list/, $offset), 0, 'the launcher never saw the bad value');

# At server start a malformed value cannot be refused: the default is used, with a warning.
$offset = -s $node->logfile;
$node->restart;
like(slurp_file($node->logfile, $offset),
    qr/WARNING:  invalid value for parameter "pgsession.databases": "postgres,"/,
    'at start the malformed value is logged');
is($node->safe_psql('postgres', 'SHOW pgsession.databases'), 'postgres',
    'and the default is in force');

$node->stop;
done_testing();
