// Connections that fail, hang or die: a clear connection_error within the timeout, and
// the next call reconnects.
#include "support.hpp"

#include <csignal>
#include <cstdlib>
#include <thread>

using namespace std::chrono_literals;
using pgsession::client;
using pgsession::test::admin;
using pgsession::test::conninfo;
using pgsession::test::elapsed;
using pgsession::test::quick_options;
using pgsession::test::unique;

using pgsession::test::stopped_process;

TEST(connection_failure, bad_connection_string_throws_connection_error) {
    try {
        client sessions{"host=127.0.0.1 nonsense_option=1"};
        FAIL() << "connected";
    } catch (const pgsession::connection_error &e) {
        EXPECT_EQ(e.sqlstate(), "08001");
        EXPECT_NE(std::string(e.what()).find("nonsense_option"), std::string::npos) << e.what();
    }
    EXPECT_THROW(client{"postgresql://[bad"}, pgsession::connection_error);
}

TEST(connection_failure, server_down_throws_connection_error_at_once) {
    const std::string down =
        "host=127.0.0.1 port=" + std::to_string(pgsession::test::closed_port()) + " user=postgres";
    auto took = elapsed([&] {
        try {
            client sessions{down};
            FAIL() << "connected";
        } catch (const pgsession::connection_error &e) {
            EXPECT_EQ(e.sqlstate(), "08001");
            EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
        }
    });
    EXPECT_LT(took, 2s);
}

TEST(connection_failure, unresponsive_server_times_out_connecting) {
    pgsession::test::silent_server silent;
    pgsession::client_options options;
    options.conninfo = "host=127.0.0.1 port=" + std::to_string(silent.port()) + " user=postgres";
    options.connect_timeout = 500ms;
    auto took = elapsed([&] { EXPECT_THROW(client{options}, pgsession::timeout_error); });
    EXPECT_GE(took, 450ms);
    EXPECT_LT(took, 3s);
}

TEST(connection_failure, stopped_backend_times_out_and_the_next_call_reconnects) {
    const std::string name = unique("stopped");
    client sessions{pgsession::test::named_options(name, 500ms)};
    std::string token = sessions.create();
    admin watcher;
    {
        stopped_process stopped(watcher.backend_pid(name));
        auto took = elapsed([&] {
            try {
                sessions.get(token);
                FAIL() << "the call returned while the server was stopped";
            } catch (const pgsession::timeout_error &e) {
                EXPECT_EQ(e.sqlstate(), "57014");
            }
        });
        EXPECT_LT(took, 3s);
        EXPECT_FALSE(sessions.connected());
    }
    EXPECT_TRUE(sessions.get(token));
    EXPECT_TRUE(sessions.connected());
}

TEST(connection_failure, call_waiting_on_a_lock_times_out) {
    client sessions{quick_options(500ms)};
    std::string token = sessions.create();
    admin locker;
    locker.query("BEGIN");
    locker.query("LOCK TABLE pgsession.sessions IN ACCESS EXCLUSIVE MODE");
    auto took = elapsed([&] { EXPECT_THROW(sessions.get(token), pgsession::timeout_error); });
    EXPECT_LT(took, 3s);
    locker.query("ROLLBACK");
    EXPECT_TRUE(sessions.get(token));
}

TEST(connection_failure, abandoned_call_does_not_take_effect_later) {
    client sessions{quick_options(400ms)};
    pgsession::create_options options;
    options.id = unique("abandoned-id-0123456789");
    admin locker;
    locker.query("BEGIN");
    locker.query("LOCK TABLE pgsession.sessions IN ACCESS EXCLUSIVE MODE");
    EXPECT_THROW(sessions.create(options), pgsession::timeout_error);
    std::this_thread::sleep_for(400ms); // past the server's statement_timeout
    locker.query("ROLLBACK");
    EXPECT_FALSE(sessions.get(*options.id));
}

TEST(connection_failure, terminated_backend_throws_connection_error_and_the_next_call_reconnects) {
    const std::string name = unique("terminated");
    client sessions{pgsession::test::named_options(name, 5s)};
    std::string token = sessions.create();
    admin killer;
    killer.query("SELECT pg_terminate_backend($1::int, 5000)",
                 {std::to_string(killer.backend_pid(name))});
    EXPECT_THROW(sessions.get(token), pgsession::connection_error);
    EXPECT_FALSE(sessions.connected());
    EXPECT_TRUE(sessions.get(token));
}

TEST(connection_failure, server_restart_mid_use_recovers) {
    const char *restart = std::getenv("PGSESSION_TEST_RESTART_CMD");
    ASSERT_TRUE(restart && *restart) << "PGSESSION_TEST_RESTART_CMD is not set";
    client sessions{quick_options(10s)};
    pgsession::create_options options;
    options.sub = unique("restart");
    std::string token = sessions.create(options);

    ASSERT_EQ(std::system(restart), 0) << restart;

    // The old connection is gone: one clear error, then business as usual with the
    // sessions intact.
    try {
        sessions.get(token);
        ADD_FAILURE() << "a call on the connection from before the restart succeeded";
    } catch (const pgsession::connection_error &e) {
        EXPECT_FALSE(e.message().empty());
    }
    std::optional<pgsession::session> s = sessions.get(token);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->sub, options.sub);
    EXPECT_TRUE(sessions.remove(token));
}
