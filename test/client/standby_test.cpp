// Reads from a real streaming hot standby (client_options::standbys): where reads are
// served, sliding expiry through standby reads, read-your-writes, the lag bound, and a
// standby or the primary going away.  test/client/run.sh starts the standby with
// pg_basebackup -R; these tests pause its replay and stop and start both servers.
#include "support.hpp"

#include <thread>

using namespace std::chrono_literals;
using pgsession::client;
using pgsession::test::admin;
using pgsession::test::eventually;
using pgsession::test::standby_conninfo;
using pgsession::test::standby_options;
using pgsession::test::stopped_process;
using pgsession::test::unique;

namespace {

// A session with a sub of its own; its token.
std::string create_with_sub(client &sessions, const std::string &sub,
                            std::optional<std::chrono::microseconds> idle_timeout = {}) {
    pgsession::create_options options;
    options.sub = sub;
    options.idle_timeout = idle_timeout;
    return sessions.create(options);
}

// How many sessions of `sub` the server behind `server` holds (live or not).
int rows_of(admin &server, const std::string &sub) {
    return std::stoi(
        server.scalar("SELECT count(*) FROM pgsession.sessions WHERE sub = $1", {sub}));
}

// Waits until the standby has replayed the sessions of `sub` (`expected` of them).
void await_replay(admin &standby, const std::string &sub, int expected = 1) {
    ASSERT_TRUE(eventually([&] { return rows_of(standby, sub) == expected; }, 10s))
        << "the standby did not replay the sessions of " << sub;
}

// The standby's replay paused for as long as it lives.
class paused_replay {
  public:
    explicit paused_replay(admin &standby) : standby_(standby) {
        standby_.query("SELECT pg_wal_replay_pause()");
    }
    ~paused_replay() {
        standby_.query("SELECT pg_wal_replay_resume()");
    }
    paused_replay(const paused_replay &) = delete;
    paused_replay &operator=(const paused_replay &) = delete;

  private:
    admin &standby_;
};

// Committed transactions of the test database, as the server behind `server` counts
// them (pg_stat_database, flushed by backends as they go idle or exit).
long commits(admin &server) {
    return std::stol(server.scalar("SELECT xact_commit FROM pg_stat_database"
                                   " WHERE datname = current_database()"));
}

// standby_options() for the tests that stop the primary: connecting to it gives up
// after 2 s, and the lag bound is `max_standby_lag`.
pgsession::client_options primary_down_options(std::chrono::milliseconds max_standby_lag) {
    pgsession::client_options options = standby_options();
    options.max_standby_lag = max_standby_lag;
    options.connect_timeout = std::chrono::seconds{2};
    return options;
}

// standby_options(name) with a call_timeout of 300 ms.
pgsession::client_options hurried_options(const std::string &name) {
    pgsession::client_options options = standby_options(name);
    options.call_timeout = std::chrono::milliseconds{300};
    return options;
}

// The primary stopped for as long as it lives, and started again after.
class stopped_primary {
  public:
    stopped_primary() {
        pgsession::test::run_command("PGSESSION_TEST_PRIMARY_STOP_CMD");
    }
    ~stopped_primary() {
        pgsession::test::run_command("PGSESSION_TEST_PRIMARY_START_CMD");
    }
    stopped_primary(const stopped_primary &) = delete;
    stopped_primary &operator=(const stopped_primary &) = delete;
};

// Backends of `application_name` connected to the server behind `server`.
int backends(admin &server, const std::string &application_name) {
    return std::stoi(server.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", {application_name}));
}

// The pid of the postmaster of the server behind `server` (its postmaster.pid's first
// line).
int postmaster_pid(admin &server) {
    const std::string file = server.scalar("SELECT pg_read_file('postmaster.pid')");
    return std::stoi(file.substr(0, file.find('\n')));
}

} // namespace

TEST(standby_options, are_checked_when_the_client_is_made) {
    pgsession::client_options options = standby_options();
    options.max_standby_lag = 0ms;
    try {
        client sessions{options};
        FAIL() << "a zero lag bound was accepted";
    } catch (const pgsession::bad_input &e) {
        EXPECT_EQ(e.sqlstate(), "22023");
        EXPECT_NE(e.message().find("max_standby_lag"), std::string::npos) << e.what();
    }
    options = standby_options();
    options.standbys.push_back("host=127.0.0.1 port=");
    options.standbys.back() += "'unterminated";
    try {
        client sessions{options};
        FAIL() << "a malformed standby connection string was accepted";
    } catch (const pgsession::bad_input &e) {
        EXPECT_EQ(e.sqlstate(), "22023");
        EXPECT_NE(e.message().find("standby"), std::string::npos) << e.what();
    }
}

TEST(standby_options, a_standby_that_is_down_leaves_reads_to_the_primary) {
    pgsession::client_options options = standby_options();
    const std::string down =
        "host=127.0.0.1 port=" + std::to_string(pgsession::test::closed_port()) + " user=postgres";
    options.standbys = {down};
    client sessions{options};
    const std::string token = sessions.create();
    const auto took = pgsession::test::elapsed([&] {
        for (int i = 0; i < 20; i++)
            ASSERT_TRUE(sessions.get(token)) << "read " << i;
    });
    EXPECT_LT(took, 2s);

    // Nothing answers at all: the primary's error.
    options.conninfo = down;
    try {
        client nowhere{options};
        FAIL() << "connected with every server down";
    } catch (const pgsession::connection_error &e) {
        EXPECT_EQ(e.sqlstate(), "08001");
    }
}

TEST(standby_reads, are_served_by_the_standby_and_not_the_primary) {
    admin primary;
    admin standby{standby_conninfo()};
    const std::string sub = unique("standby-reads");
    std::string token;
    {
        client writer{pgsession::test::default_options()};
        token = create_with_sub(writer, sub);
    }
    await_replay(standby, sub);

    constexpr int reads = 300;
    const long primary_before = commits(primary);
    const long standby_before = commits(standby);
    {
        client sessions{standby_options()};
        for (int i = 0; i < reads; i++)
            ASSERT_TRUE(sessions.get(token)) << "read " << i;
        std::vector<std::optional<pgsession::session>> many =
            sessions.get_many({token, token, pgsession::test::unknown_token});
        ASSERT_EQ(many.size(), 3u);
        EXPECT_TRUE(many[0] && many[1]);
        EXPECT_FALSE(many[2]);
    } // the backends exit and flush their counts
    ASSERT_TRUE(eventually([&] { return commits(standby) - standby_before >= reads; }, 15s))
        << "the standby counted " << commits(standby) - standby_before << " commits";
    // The primary saw the client's connection setup, its WAL-position samples (one per
    // max_standby_lag / 4), the miss of the unknown token and this test's own queries:
    // nothing like one per read.
    EXPECT_LT(commits(primary) - primary_before, reads / 5);
}

TEST(standby_reads, keep_a_session_alive_past_its_idle_timeout) {
    admin primary;
    admin standby{standby_conninfo()};
    const std::string sub = unique("standby-sliding");
    client sessions{standby_options()};
    const std::string token = create_with_sub(sessions, sub, 2s);
    await_replay(standby, sub);

    // Reads only, for twice the idle timeout: each access due (once a second, half the
    // idle timeout) is recorded on the primary.
    const auto until = std::chrono::steady_clock::now() + 4s;
    while (std::chrono::steady_clock::now() < until) {
        ASSERT_TRUE(sessions.get(token)) << "the session expired while read";
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(primary.scalar("SELECT count(*) FROM pgsession.sessions WHERE sub = $1"
                             " AND expires_at > now() AND last_accessed_at > now() - interval '2s'",
                             {sub}),
              "1")
        << "the primary did not record the accesses";
}

TEST(standby_reads, find_a_session_the_standby_has_not_replayed) {
    admin standby{standby_conninfo()};
    const std::string sub = unique("standby-ryw");
    client sessions{standby_options()};
    const std::string old_token = create_with_sub(sessions, sub + "-old");
    await_replay(standby, sub + "-old");
    {
        paused_replay paused(standby);
        const std::string token = create_with_sub(sessions, sub);
        std::this_thread::sleep_for(100ms);
        ASSERT_EQ(rows_of(standby, sub), 0) << "replay did not pause";

        std::optional<pgsession::session> s = sessions.get(token);
        ASSERT_TRUE(s) << "a session created a moment ago was not found";
        EXPECT_EQ(s->sub, sub);
        std::vector<std::optional<pgsession::session>> many =
            sessions.get_many({pgsession::test::unknown_token, token, old_token});
        ASSERT_EQ(many.size(), 3u);
        EXPECT_FALSE(many[0]);
        ASSERT_TRUE(many[1]);
        EXPECT_EQ(many[1]->sub, sub);
        ASSERT_TRUE(many[2]);
        EXPECT_EQ(many[2]->sub, sub + "-old");
    }
    await_replay(standby, sub);
}

TEST(standby_reads, show_a_logout_within_the_lag_bound) {
    admin standby{standby_conninfo()};
    const std::string sub = unique("standby-logout");
    client sessions{standby_options()};
    const std::string token = create_with_sub(sessions, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));

    ASSERT_TRUE(sessions.remove(token));
    const auto removed = std::chrono::steady_clock::now();
    ASSERT_TRUE(eventually([&] { return !sessions.get(token); }, 5s));
    const auto window = std::chrono::steady_clock::now() - removed;
    EXPECT_LT(window, pgsession::client_options{}.max_standby_lag);
    EXPECT_EQ(rows_of(standby, sub), 0);
}

TEST(standby_reads, are_refused_from_a_standby_past_the_bound) {
    admin primary;
    admin standby{standby_conninfo()};
    const std::string sub = unique("standby-bound");
    pgsession::client_options options = standby_options();
    options.max_standby_lag = 300ms;
    client sessions{options};
    const std::string token = create_with_sub(sessions, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));

    paused_replay paused(standby);
    primary.query("SELECT session_delete($1)", {token});
    // A new client's only sample of the primary's position is newer than the standby's
    // replay: it cannot tell how far behind the standby is, so it asks the primary.
    client fresh{options};
    EXPECT_FALSE(fresh.get(token)) << "a logout was read on a standby of unknown lag";
    // The first client samples the primary after the logout (its earlier sample still
    // vouches for the standby: the logout is younger than the bound, and may be read).
    std::this_thread::sleep_for(100ms);
    sessions.get(token);
    std::this_thread::sleep_for(600ms); // past the bound
    ASSERT_EQ(rows_of(standby, sub), 1) << "the standby replayed the logout while paused";
    // Now the standby is behind a sample older than the bound.
    EXPECT_FALSE(sessions.get(token)) << "a logout older than the bound was read on a standby";
    EXPECT_FALSE(sessions.get_many({token}).front());
}

TEST(standby_failure, reads_move_to_the_primary_and_come_back) {
    admin standby{standby_conninfo()};
    const std::string name = unique("standby-down");
    const std::string sub = unique("standby-down");
    client sessions{standby_options(name)};
    const std::string token = create_with_sub(sessions, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));
    ASSERT_EQ(backends(standby, name), 1) << "the read was not served by the standby";

    pgsession::test::run_command("PGSESSION_TEST_STANDBY_STOP_CMD");
    const auto took = pgsession::test::elapsed([&] {
        for (int i = 0; i < 5; i++)
            EXPECT_TRUE(sessions.get(token)) << "read " << i << " with the standby down";
        EXPECT_TRUE(sessions.get_many({token}).front());
    });
    EXPECT_LT(took, 2s);

    pgsession::test::run_command("PGSESSION_TEST_STANDBY_START_CMD");
    admin restarted{standby_conninfo()};
    await_replay(restarted, sub);
    // Back once the standby has been left alone for its retry interval.
    EXPECT_TRUE(eventually(
        [&] {
            EXPECT_TRUE(sessions.get(token));
            return backends(restarted, name) == 1;
        },
        5s))
        << "reads did not come back to the standby";
}

TEST(standby_failure, a_standby_that_hangs_leaves_the_read_to_the_primary_in_time) {
    admin primary;
    admin standby{standby_conninfo()};
    const std::string name = unique("standby-hangs");
    const std::string sub = unique("standby-hangs");
    pgsession::client_options options = hurried_options(name);
    options.connect_timeout = 3s;
    client sessions{options};
    const std::string token = create_with_sub(sessions, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));
    const int primary_backend = primary.backend_pid(name);
    const int standby_backend = standby.backend_pid(name);
    {
        // The standby hangs: its postmaster (no new connection is answered) and the
        // backend of the client's connection.
        stopped_process hung_postmaster(postmaster_pid(standby));
        stopped_process hung_backend(standby_backend);
        const auto read_in_time = [&](const char *what) {
            std::optional<pgsession::session> s;
            const auto took = pgsession::test::elapsed([&] {
                try {
                    s = sessions.get(token);
                } catch (const pgsession::error &e) {
                    ADD_FAILURE() << what << ": " << e.what();
                }
            });
            EXPECT_TRUE(s) << what;
            EXPECT_LT(took.count(), 500) << what << " took " << took.count() << " ms";
        };
        // The call on its connection times out: the primary answers in the time left.
        read_in_time("the standby's connection hangs");
        // Left alone for a second, then connecting to it hangs: the same.
        std::this_thread::sleep_for(1100ms);
        read_in_time("connecting to the standby hangs");
    }
    EXPECT_TRUE(sessions.connected());
    EXPECT_EQ(primary.backend_pid(name), primary_backend) << "the primary's connection was dropped";
}

TEST(primary_failure, a_slow_primary_still_answers_the_misses_of_the_next_reads) {
    client writer{pgsession::test::default_options()};
    admin primary;
    admin standby{standby_conninfo()};
    const std::string name = unique("primary-slow");
    pgsession::client_options options = hurried_options(name);
    options.max_standby_lag = 2s;
    client sessions{options};
    const std::string sub = unique("primary-slow");
    const std::string token = create_with_sub(writer, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));   // samples the primary
    std::this_thread::sleep_for(600ms); // the sample is due again (max_standby_lag / 4)
    {
        // The client's primary backend stalls: the sample times out, and the standby
        // (vouched for by the earlier sample) serves the read.
        stopped_process slow(primary.backend_pid(name));
        EXPECT_TRUE(sessions.get(token));
    }
    // The primary answers again: a session the standby has not replayed is found there.
    paused_replay paused(standby);
    const std::string fresh = create_with_sub(writer, sub + "-fresh");
    EXPECT_TRUE(sessions.get(fresh)) << "a miss was not asked on a primary that was only slow";
    EXPECT_TRUE(sessions.get_many({fresh}).front());
}

TEST(primary_failure, reads_go_on_from_the_standby_and_writes_fail) {
    admin standby{standby_conninfo()};
    const std::string sub = unique("primary-down");
    // One client whose sample of the primary stays fresh (so reads ask the primary, and
    // find it gone), one whose bound passes while the primary is down.
    const pgsession::client_options patient = primary_down_options(60s);
    const pgsession::client_options strict = primary_down_options(300ms);
    client sessions{patient};
    client quick{strict};
    const std::string token = create_with_sub(sessions, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));
    ASSERT_TRUE(quick.get(token));

    stopped_primary stopped;

    // A miss asks the primary, which is gone: unknown, not an error.
    EXPECT_FALSE(sessions.get(pgsession::test::unknown_token));
    EXPECT_TRUE(sessions.get(token)) << "a read failed with the primary down";
    std::vector<std::optional<pgsession::session>> many =
        sessions.get_many({pgsession::test::unknown_token, token});
    EXPECT_FALSE(many.at(0));
    EXPECT_TRUE(many.at(1));
    EXPECT_THROW(sessions.create(), pgsession::connection_error);
    EXPECT_THROW(sessions.remove(token), pgsession::connection_error);
    // Past the bound, with nothing from the primary to compare with: the standby's own
    // view, which cannot vouch for it (its last replayed commit is older than the bound,
    // and its WAL receiver has nothing to stream from), so the read fails.
    std::this_thread::sleep_for(600ms);
    EXPECT_THROW(quick.get(token), pgsession::connection_error);
    EXPECT_THROW(quick.get_many({token}), pgsession::connection_error);
    // A new client is made (the constructor goes on with a standby), and reads the same.
    client later{strict};
    EXPECT_THROW(later.get(token), pgsession::connection_error);
    EXPECT_THROW(later.touch(token), pgsession::connection_error);
}

TEST(primary_failure, a_logout_the_cut_off_standby_missed_is_not_read_past_the_bound) {
    admin standby{standby_conninfo()};
    const std::string sub = unique("standby-cut-off");
    client sessions{primary_down_options(300ms)};
    const std::string token = create_with_sub(sessions, sub);
    await_replay(standby, sub);
    ASSERT_TRUE(sessions.get(token));

    // Cut the standby off: its WAL receiver connects nowhere, so it has replayed all it
    // received, and misses the logout.
    const std::string primary_conninfo = standby.scalar("SHOW primary_conninfo");
    struct reattach {
        admin &standby;
        const std::string &conninfo;
        ~reattach() {
            standby.query(standby.scalar("SELECT format('ALTER SYSTEM SET primary_conninfo = %L',"
                                         " $1::text)",
                                         {conninfo}));
            standby.query("SELECT pg_reload_conf()");
        }
    } restore{standby, primary_conninfo};
    standby.query("ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'");
    standby.query("SELECT pg_reload_conf()");
    ASSERT_TRUE(eventually(
        [&] {
            return standby.scalar("SELECT count(*) FROM pg_stat_wal_receiver"
                                  " WHERE status = 'streaming'") == "0";
        },
        10s))
        << "the standby's WAL receiver kept streaming";
    ASSERT_TRUE(sessions.remove(token));

    stopped_primary stopped;
    ASSERT_EQ(rows_of(standby, sub), 1) << "the cut-off standby replayed the logout";
    // Past the bound, with neither the primary nor the standby able to vouch for it.
    std::this_thread::sleep_for(600ms);
    for (int i = 0; i < 3; i++) {
        try {
            std::optional<pgsession::session> s = sessions.get(token);
            ADD_FAILURE() << "read " << i << " returned " << (s ? "the removed session" : "unknown")
                          << " from a standby that cannot vouch for its lag";
        } catch (const pgsession::connection_error &) {
        }
        std::this_thread::sleep_for(300ms);
    }
    EXPECT_THROW(sessions.get_many({token}), pgsession::connection_error);
}

TEST(primary_failure, writes_work_again_when_the_primary_is_back) {
    pgsession::test::run_command("PGSESSION_TEST_PRIMARY_STOP_CMD");
    pgsession::client_options options = standby_options();
    client sessions{options};
    EXPECT_THROW(sessions.create(), pgsession::connection_error);
    pgsession::test::run_command("PGSESSION_TEST_PRIMARY_START_CMD");
    std::string token;
    EXPECT_TRUE(eventually(
        [&] {
            try {
                token = sessions.create();
                return true;
            } catch (const pgsession::connection_error &) {
                return false;
            }
        },
        10s));
    EXPECT_TRUE(sessions.get(token)) << "read-your-writes after the primary came back";
}

TEST(standby_pool, each_lease_reads_from_the_standby_and_finds_its_writes) {
    admin standby{standby_conninfo()};
    const std::string name = unique("standby-pool");
    pgsession::pool_options options;
    options.client = standby_options(name);
    options.size = 3;
    pgsession::pool sessions{options};

    // Each round reads the session it has just created: found on the primary, if the
    // standby has not replayed it yet.
    constexpr int threads = 6;
    constexpr int rounds = 20;
    const int found = pgsession::test::in_threads(threads, rounds, [&](int t, int) {
        pgsession::create_options create;
        create.sub = name + "-" + std::to_string(t);
        std::string token = sessions.acquire()->create(create);
        std::optional<pgsession::session> s = sessions.acquire()->get(token);
        return s && s->sub == create.sub;
    });
    EXPECT_EQ(found, threads * rounds);
    EXPECT_GE(backends(standby, name), 1);
    EXPECT_LE(backends(standby, name), 3);
}
