// get_many and remove_many: each statement is a transaction of its own, so batches over
// the same sessions in opposite orders never deadlock, and one statement's failure fails
// only itself.
#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

using namespace std::chrono_literals;
using pgsession::client;
using pgsession::test::admin;
using pgsession::test::default_options;
using pgsession::test::unique;

namespace {

// A client whose every get records an access (a row lock until its transaction ends)
// and whose lock waits give up quickly, with the server error 55P03.
pgsession::client_options eager_options() {
    pgsession::client_options options = default_options(pgsession::test::conninfo_with(
        "options='-c pgsession.touch_interval=0 -c lock_timeout=300'"));
    options.call_timeout = 10s;
    return options;
}

// `count` new sessions of one user.
std::vector<std::string> create_sessions(client &sessions, const std::string &sub, int count) {
    pgsession::create_options options;
    options.sub = sub;
    std::vector<std::string> tokens;
    for (int i = 0; i < count; i++)
        tokens.push_back(sessions.create(options));
    return tokens;
}

// The last recorded access of a session, by its unique sub, as the server prints it.
std::string last_access(admin &server, const std::string &sub) {
    return server.scalar("SELECT last_accessed_at::text FROM pgsession.sessions WHERE sub = $1",
                         {sub});
}

} // namespace

TEST(session_batches, opposite_orders_over_the_same_sessions_never_deadlock) {
    client setup{eager_options()};
    constexpr int rounds = 4;
    for (int round = 0; round < rounds; round++) {
        const std::vector<std::string> forward = create_sessions(setup, unique("batch"), 200);
        std::vector<std::string> backward(forward.rbegin(), forward.rend());
        std::atomic<std::int64_t> removed{0};
        std::atomic<int> found{0};
        auto work = [&](const std::vector<std::string> &tokens) {
            try {
                client sessions{eager_options()};
                for (int i = 0; i < 3; i++) {
                    for (const auto &s : sessions.get_many(tokens))
                        found += s ? 1 : 0;
                }
                removed += sessions.remove_many(tokens);
            } catch (const pgsession::error &e) {
                ADD_FAILURE() << e.what();
                EXPECT_NE(e.sqlstate(), "40P01") << "deadlock";
            }
        };
        std::thread one(work, std::cref(forward));
        std::thread other(work, std::cref(backward));
        one.join();
        other.join();
        // Each session was removed exactly once; lookups after its removal find nothing.
        EXPECT_EQ(removed.load(), 200) << "round " << round;
        EXPECT_GE(found.load(), 200) << "round " << round;
        EXPECT_EQ(setup.remove_many(forward), 0);
    }
}

TEST(session_batches, a_failed_removal_fails_alone_and_the_others_take_effect) {
    client sessions{eager_options()};
    const std::string locked_sub = unique("locked");
    const std::vector<std::string> before = create_sessions(sessions, unique("batch"), 2);
    const std::string locked = create_sessions(sessions, locked_sub, 1)[0];
    const std::vector<std::string> after = create_sessions(sessions, unique("batch"), 2);
    const std::vector<std::string> batch{before[0], before[1], locked, after[0], after[1]};

    admin locker;
    locker.query("BEGIN");
    locker.query("SELECT 1 FROM pgsession.sessions WHERE sub = $1 FOR UPDATE", {locked_sub});
    try {
        sessions.remove_many(batch);
        ADD_FAILURE() << "remove_many returned although a row was locked";
    } catch (const pgsession::error &e) {
        EXPECT_EQ(e.sqlstate(), "55P03") << e.what(); // lock_timeout, on the locked one only
    }
    locker.query("ROLLBACK");

    EXPECT_TRUE(sessions.connected());
    for (const std::string &token : {before[0], before[1], after[0], after[1]})
        EXPECT_FALSE(sessions.get(token)) << "a removal beside the failed one did not commit";
    EXPECT_TRUE(sessions.get(locked));
    EXPECT_EQ(sessions.remove_many(batch), 1); // the same batch again is harmless
}

TEST(session_batches, a_failed_lookup_fails_alone_and_the_others_still_run) {
    client sessions{eager_options()};
    const std::string first_sub = unique("first"), last_sub = unique("last");
    const std::string first = create_sessions(sessions, first_sub, 1)[0];
    const std::string last = create_sessions(sessions, last_sub, 1)[0];
    admin server;
    const std::string last_seen = last_access(server, last_sub);
    std::this_thread::sleep_for(5ms);

    // A malformed token: refused by servers that check tokens (22023), an unknown
    // session for the others.  Either way the lookups beside it run and commit.
    try {
        std::vector<std::optional<pgsession::session>> found =
            sessions.get_many({first, "short", last});
        ASSERT_EQ(found.size(), 3u);
        EXPECT_EQ(found[0]->sub, first_sub);
        EXPECT_FALSE(found[1]);
        EXPECT_EQ(found[2]->sub, last_sub);
    } catch (const pgsession::bad_input &e) {
        EXPECT_EQ(e.sqlstate(), "22023") << e.what();
    }
    EXPECT_NE(last_access(server, last_sub), last_seen) << "the lookup after it did not run";
    EXPECT_TRUE(sessions.connected());
    EXPECT_EQ(sessions.get_many({first, last}).size(), 2u);
}

TEST(session_batches, a_nul_byte_fails_the_batch_before_anything_is_sent) {
    client sessions{eager_options()};
    const std::string sub = unique("nul");
    const std::string token = create_sessions(sessions, sub, 1)[0];
    admin server;
    const std::string seen = last_access(server, sub);
    std::this_thread::sleep_for(5ms);
    EXPECT_THROW(sessions.get_many({token, std::string("bad\0token", 9)}), pgsession::bad_input);
    EXPECT_THROW(sessions.remove_many({token, std::string("bad\0token", 9)}), pgsession::bad_input);
    EXPECT_EQ(last_access(server, sub), seen);
    EXPECT_TRUE(sessions.get(token));
}
