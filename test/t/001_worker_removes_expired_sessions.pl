# The cleanup worker on one server: it removes expired sessions within an interval and
# leaves live ones, reports in session_stats(), skips databases it cannot serve with one
# log line, applies a reloaded interval, never loses a session touched right at its
# expiry, keeps its memory flat, and lets DROP DATABASE of a database it serves go
# through at once.
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
my $node = new_worker_node('cleanup',
    conf => ["pgsession.databases = 'postgres, appdb, noext, missingdb'"]);
$node->safe_psql('postgres', 'CREATE DATABASE appdb');
$node->safe_psql('postgres', 'CREATE DATABASE noext');
$node->safe_psql('appdb',    'CREATE EXTENSION pgsession');

# --- visible and logged
ok(defined wait_for_value($node, 'postgres',
        "SELECT application_name FROM pg_stat_activity WHERE backend_type = '$launcher'",
        $launcher, 10),
    'the launcher shows in pg_stat_activity with its backend_type and application_name');
ok($node->log_contains(
        qr/$launcher started: pgsession.cleanup_worker = on, pgsession.cleanup_interval = 1s, /
          . qr/pgsession.databases = 'postgres, appdb, noext, missingdb'/),
    'the start is logged with the settings');
my $launcher_pid = worker_pids($node, $launcher);

# --- expired sessions go, live ones stay
create_sessions($node, 'postgres', 'live',  50,  '1 hour');
create_sessions($node, 'postgres', 'short', 200, '1 second');
create_sessions($node, 'appdb',    'short', 30,  '1 second');
my $took = wait_for_value($node, 'postgres',
    "SELECT count(*) FROM pgsession.sessions WHERE expires_at <= now() - interval '1 hour' "
      . "OR id_hash IN (SELECT sha256(convert_to('short-session-' || lpad(g::text, 8, '0'), "
      . "'UTF8')) FROM generate_series(1, 200) g)",
    '0', 10);
ok(defined $took, 'expired sessions are removed within a few seconds (interval 1s)');
note sprintf('removed after %.1f s', $took // -1);
ok(defined wait_for_value($node, 'appdb', 'SELECT count(*) FROM pgsession.sessions', '0', 10),
    'expired sessions are removed in the second listed database too');
is(count_sessions($node, 'postgres', 'live', 50), '50', 'live sessions are left alone');
ok($node->log_contains(
        qr/pgsession cleanup worker: removed 200 expired sessions from database "postgres" in \d+ batch(es)? \([\d.]+ ms, (not paced|paced: [^)]*)\)/),
    'a run that removed sessions is logged with count, batches and duration');

my $stats = $node->safe_psql('postgres',
        "SELECT live_sessions, expired_sessions, worker_pid = $launcher_pid, last_run_result, "
      . "removed_since_start >= 200, last_run_finished_at >= last_run_started_at, "
      . "next_run_at > now() - interval '2 s' AND next_run_at < now() + interval '2 s' "
      . "FROM session_stats()");
is($stats, "50|0|t|ok|t|t|t", 'session_stats() reports counts and the last and next run');

# The launcher's memory, as pg_log_backend_memory_contexts() reports it: the "Grand
# total" line it writes to the log.
sub launcher_memory {
    my $offset = -s $node->logfile;
    $node->safe_psql('postgres',
        "SELECT pg_log_backend_memory_contexts(pid) FROM pg_stat_activity "
          . "WHERE backend_type = '$launcher'");
    $node->wait_for_log(qr/Grand total: \d+ bytes/, $offset);
    my ($bytes) = slurp_file($node->logfile, $offset) =~ /Grand total: (\d+) bytes/;
    return $bytes;
}
my $memory_before = launcher_memory();

# --- databases it cannot serve: one log line each, however many runs
sleep 3;
is(log_count($node, qr/skipping database "noext": the pgsession extension is not installed/),
    1, 'a database without the extension is skipped with one log line');
is(log_count($node, qr/skipping database "missingdb": it does not exist/),
    1, 'a missing database is skipped with one log line');
is(worker_pids($node, $launcher), $launcher_pid, 'the launcher kept running throughout');

# --- a reloaded interval takes effect without a restart
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = '1h'; SELECT pg_reload_conf()");
ok(defined wait_for_value($node, 'postgres',
        "SELECT next_run_at > now() + interval '50 minutes' FROM session_stats()", 't', 10),
    'after a reload with a 1 hour interval the next run is an hour away');
ok($node->log_contains(qr/$launcher reloaded its settings: .*cleanup_interval = 3600s/),
    'the reload is logged with the new settings');
create_sessions($node, 'postgres', 'slow', 20, '1 second');
sleep 3;
is(count_sessions($node, 'postgres', 'slow', 20), '20', 'with a 1 hour interval nothing runs');
$node->safe_psql('postgres',
    "ALTER SYSTEM SET pgsession.cleanup_interval = 1; SELECT pg_reload_conf()");
$took = wait_for_value($node, 'postgres',
    "SELECT count(*) FROM pgsession.sessions WHERE id_hash IN (SELECT "
      . "sha256(convert_to('slow-session-' || lpad(g::text, 8, '0'), 'UTF8')) "
      . "FROM generate_series(1, 20) g)", '0', 5);
ok(defined $took, 'a reload back to 1 s makes the overdue run happen at once');

# --- race: sessions touched right at their expiry while small batches run
# Each of 4 pgbench clients touches its 20 sessions round-robin, one every ~48 ms, so
# every session is touched about once a second.  Their idle timeouts are spread from
# 0.86 s to 1.05 s, so some are touched a few milliseconds before they expire (and
# survive only thanks to the touch), some just after (and are gone), while the worker
# (batches of 5) examines the same rows every second.  A touch that finds its session
# gone although the previous touch had extended it past the moment of this one is a
# lost session.
$node->safe_psql('postgres',
        "ALTER SYSTEM SET pgsession.cleanup_batch_size = 5; SELECT pg_reload_conf(); "
      . "CREATE TABLE race_log (sid int, at timestamptz DEFAULT statement_timestamp(), "
      . "prev_exp timestamptz, exp timestamptz)");
my $script = PostgreSQL::Test::Utils::tempdir() . '/touch.sql';
open my $fh, '>', $script or die $!;
print $fh <<'SQL';
\set k (:k + 1) % 20
\set s :client_id * 20 + :k + 1
\set d random(44, 50)
\sleep :d ms
INSERT INTO race_log (sid, prev_exp, exp) SELECT :s, (SELECT max(exp) FROM race_log WHERE sid = :s), session_touch('race-session-' || lpad(:s::text, 8, '0'));
SQL
close $fh;
$node->safe_psql('postgres',
        "SELECT count(session_create(id => 'race-session-' || lpad(g::text, 8, '0'), "
      . "idle_timeout => make_interval(secs => 0.85 + ((g - 1) % 20 + 1) * 0.01))) "
      . "FROM generate_series(1, 80) g");
$node->command_ok(
    [ 'pgbench', '-n', '-c', '4', '-T', '8', '-D', 'k=-1', '-f', $script, 'postgres' ],
    'pgbench touches sessions at their expiry');
my ($touched, $close, $late, $lost) = split /\|/, $node->safe_psql('postgres',
        "SELECT count(*) FILTER (WHERE exp IS NOT NULL), "
      . "count(*) FILTER (WHERE exp IS NOT NULL AND prev_exp - at < interval '20 ms'), "
      . "count(*) FILTER (WHERE exp IS NULL AND (prev_exp IS NULL OR prev_exp <= at)), "
      . "count(*) FILTER (WHERE exp IS NULL AND prev_exp > at) FROM race_log");
note "touches: $touched extended a session ($close of them less than 20 ms before it "
  . "expired), $late came after its expiry";
cmp_ok($touched, '>', 200, 'many touches extended their session');
cmp_ok($close, '>', 0, 'some touches came within 20 ms of the expiry');
is($lost, '0', 'no touched session was removed before its extended expiry');

# --- memory: the per-run context keeps the launcher flat over the runs so far
my $memory_after = launcher_memory();
note "launcher memory: $memory_before bytes, then $memory_after bytes";
cmp_ok($memory_after - $memory_before, '<', 8192,
    'the launcher\'s memory stayed flat over some twenty runs');

# --- DROP DATABASE of a served database goes through at once, and no FATAL loop follows
my $t0 = time;
$node->safe_psql('postgres', 'DROP DATABASE appdb');
my $drop_s = time - $t0;
note sprintf('DROP DATABASE took %.2f s', $drop_s);
cmp_ok($drop_s, '<', 3, 'DROP DATABASE of a served database completes promptly');
my $offset = -s $node->logfile;
sleep 3;
is(log_count($node, qr/skipping database "appdb": it does not exist/, $offset),
    1, 'the dropped database is then skipped with one log line');
is(log_count($node, qr/FATAL/, $offset), 0, 'no FATAL after the drop');
is(worker_pids($node, $launcher), $launcher_pid, 'the launcher is still the same process');

$node->stop;
done_testing();
