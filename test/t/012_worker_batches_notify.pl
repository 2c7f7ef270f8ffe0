# The cleanup worker's batches send session events (pgsession.notify_channel set in
# postgresql.conf): one notification per batch that removed sessions, on that channel, with how many it removed, at the
# batch's commit; none for a run that removes nothing, and none once the channel is
# set empty (a reload).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = new_worker_node('notify',
    conf => ["pgsession.databases = 'postgres'", "pgsession.cleanup_batch_size = 100",
             "pgsession.notify_channel = 'pgsession'"]);
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN pgsession');

# The payloads of the notifications the listener has received since the last call
# (psql prints them after a query's result).
sub heard {
    my $out = $listener->query_safe('SELECT 1');
    return [$out =~ /Asynchronous notification "pgsession" with payload "(.*?)" received from/g];
}
# Waits until the listener has heard notifications whose "removed" counts add up to
# `total` (at most 30 s); returns the payloads heard.
sub heard_removing {
    my ($total) = @_;
    my @payloads;
    my $sum = 0;
    my $start = time;
    while (time - $start < 30 && $sum < $total) {
        for my $payload (@{ heard() }) {
            push @payloads, $payload;
            $sum += $1 if $payload =~ /"removed":(\d+)/;
        }
        sleep 0.1;
    }
    return \@payloads;
}

insert_expired_sessions($node, 'postgres', 250);
my $payloads = heard_removing(250);
is_deeply($payloads,
    ['{"event":"cleanup","removed":100}', '{"event":"cleanup","removed":100}',
     '{"event":"cleanup","removed":50}'],
    'the worker notifies once per batch (batches of 100), each with the sessions it removed');

# A run over nothing expired: no notification.
sleep 2.5;
is_deeply(heard(), [], 'runs that remove nothing send nothing');

# The channel set empty in postgresql.conf and reloaded: nothing either.
$node->append_conf('postgresql.conf', "pgsession.notify_channel = ''\n");
$node->reload;
sleep 1.5;
insert_expired_sessions($node, 'postgres', 20);
ok(defined wait_for_value($node, 'postgres', 'SELECT count(*) FROM pgsession.sessions', '0', 10),
    'the worker removes the next expired sessions');
sleep 0.5;
is_deeply(heard(), [], 'with pgsession.notify_channel empty, it sends nothing');

$listener->quit;
$node->stop;
done_testing();
