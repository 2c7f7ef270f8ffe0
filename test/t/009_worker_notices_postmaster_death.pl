# When the postmaster dies (kill -9), the launcher and a worker in the middle of a long
# run exit within a batch or so, rather than cleaning on behind a server that is gone.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use PgSessionTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $launcher = 'pgsession cleanup launcher';
my $worker   = 'pgsession cleanup worker';
my $bulk     = 300000;
# Batches of 20: the run would last many seconds.
my $node = new_worker_node('pmdeath',
    conf => [ 'pgsession.cleanup_batch_size = 20', 'pgsession.cleanup_interval = 3600' ]);
insert_expired_sessions($node, 'postgres', $bulk);
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
my $pid = '';
my $start = time;
while (time - $start < 30) {
    $pid = worker_pids($node, $worker);
    last if $pid ne '' && $node->safe_psql('postgres', 'SELECT count(*) FROM pgsession.sessions') < $bulk;
    sleep 0.02;
}
isnt($pid, '', 'a worker is in the middle of a long run');
my $launcher_pid = worker_pids($node, $launcher);
my $left_before = $node->safe_psql('postgres', 'SELECT count(*) FROM pgsession.sessions');

# Whether a process runs (a zombie waiting to be reaped by init does not).
sub running {
    my ($p) = @_;
    open my $fh, '<', "/proc/$p/stat" or return 0;
    my ($state) = <$fh> =~ /\) (\S)/;
    return $state ne 'Z';
}

kill 'KILL', $node->{_pid};
my $t0 = time;
my ($worker_gone, $launcher_gone);
while (time - $t0 < 30 && !(defined $worker_gone && defined $launcher_gone)) {
    $worker_gone   //= time - $t0 unless running($pid);
    $launcher_gone //= time - $t0 unless running($launcher_pid);
    sleep 0.01;
}
note sprintf('worker gone after %.2f s, launcher after %.2f s (%d sessions were left)',
    $worker_gone // -1, $launcher_gone // -1, $left_before);
ok(defined $worker_gone && $worker_gone < 1, 'the worker exits within a second');
ok(defined $launcher_gone && $launcher_gone < 1, 'the launcher exits within a second');

# The postmaster is gone: nothing to stop at the end.
$node->{_pid} = undef;
done_testing();
