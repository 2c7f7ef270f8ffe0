// The pool: many threads share a few connections; exhaustion and failures are clear.
#include "support.hpp"

#include <pgsession/pool.hpp>

#include <atomic>
#include <thread>

using namespace std::chrono_literals;
using pgsession::test::conninfo;
using pgsession::test::default_options;
using pgsession::test::pool_of;

TEST(session_pool, many_threads_share_a_few_connections) {
    pgsession::pool_options options;
    options.client = default_options();
    options.size = 4;
    pgsession::pool sessions{options};

    constexpr int threads = 16;
    constexpr int rounds = 20;
    const int done = pgsession::test::in_threads(threads, rounds, [&](int t, int) {
        pgsession::create_options create;
        create.sub = "thread-" + std::to_string(t);
        std::string token = sessions.acquire()->create(create);
        auto lease = sessions.acquire();
        std::optional<pgsession::session> s = lease->get(token);
        return s && s->sub == create.sub && lease->remove(token);
    });
    EXPECT_EQ(done, threads * rounds);
    EXPECT_LE(sessions.open(), 4u);
    EXPECT_GE(sessions.open(), 1u);
}

TEST(session_pool, reuses_returned_connections) {
    pgsession::pool sessions{pool_of(3)};
    EXPECT_EQ(sessions.open(), 0u);
    for (int i = 0; i < 5; i++)
        EXPECT_FALSE(sessions.acquire()->get(pgsession::test::unknown_token));
    EXPECT_EQ(sessions.open(), 1u);
}

TEST(session_pool, exhausted_pool_throws_after_the_acquire_timeout) {
    pgsession::pool_options options;
    options.client = default_options();
    options.size = 1;
    options.acquire_timeout = 200ms;
    pgsession::pool sessions{options};
    auto held = sessions.acquire();
    auto took = pgsession::test::elapsed([&] {
        try {
            sessions.acquire();
            FAIL() << "acquired a second connection from a pool of one";
        } catch (const pgsession::pool_exhausted &e) {
            EXPECT_EQ(e.sqlstate(), "53300");
        }
    });
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 2s);
}

TEST(session_pool, waiting_thread_gets_the_returned_connection) {
    pgsession::pool sessions{pool_of(1)};
    std::optional<pgsession::pool::lease> held{sessions.acquire()};
    std::thread releaser([&] {
        std::this_thread::sleep_for(100ms);
        held.reset();
    });
    EXPECT_NO_THROW(sessions.acquire()->create());
    releaser.join();
    EXPECT_EQ(sessions.open(), 1u);
}

TEST(session_pool, failed_connect_frees_its_place) {
    pgsession::pool_options options;
    options.client.conninfo =
        "host=127.0.0.1 port=" + std::to_string(pgsession::test::closed_port());
    options.size = 1;
    options.acquire_timeout = 200ms;
    pgsession::pool sessions{options};
    EXPECT_THROW(sessions.acquire(), pgsession::connection_error);
    EXPECT_THROW(sessions.acquire(), pgsession::connection_error); // not pool_exhausted
    EXPECT_EQ(sessions.open(), 0u);
}

TEST(session_pool, broken_connection_reconnects_on_its_next_use) {
    pgsession::pool sessions{pool_of(1)};
    std::string token = sessions.acquire()->create();
    pgsession::test::admin killer;
    killer.query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                 " WHERE application_name = 'pgsession-client' AND datname = current_database()");
    bool recovered = false;
    for (int attempt = 0; attempt < 2 && !recovered; attempt++) {
        try {
            recovered = sessions.acquire()->get(token).has_value();
        } catch (const pgsession::connection_error &) {
        }
    }
    EXPECT_TRUE(recovered);
}
