// pgsession::subscription against the real extension: an event per ended session with
// the token's SHA-256, nothing for a rolled-back delete, one event per cleanup call, the
// deadline, and a server restart (a `missed` event, then events again).
#include "support.hpp"

#include <pgsession/subscription.hpp>

#include <algorithm>
#include <cstdlib>
#include <thread>

using namespace std::chrono_literals;
using pgsession::client;
using pgsession::create_options;
using pgsession::event;
using pgsession::event_kind;
using pgsession::subscription;
using pgsession::subscription_options;
using pgsession::token_sha256;
using pgsession::test::admin;
using pgsession::test::conninfo;
using pgsession::test::default_options;
using pgsession::test::elapsed;
using pgsession::test::unique;

namespace {

// The server's SHA-256 of a text, as hex.
std::string server_sha256(admin &db, const std::string &text) {
    return db.scalar("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", {text});
}

// The events that arrive within `timeout` until one satisfies `last` (with the others
// polled at the same time); the test fails when none does.
std::vector<event> events_until(subscription &events,
                                const std::function<bool(const event &)> &last,
                                std::chrono::milliseconds timeout = 5s) {
    std::vector<event> seen;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        bool found = false;
        for (event &e : events.poll(deadline)) {
            seen.push_back(std::move(e));
            found = last(seen.back()) || found;
        }
        if (found)
            return seen;
    }
    ADD_FAILURE() << "the awaited event did not arrive; " << seen.size() << " others did"
                  << (seen.empty() ? "" : ", the last: " + seen.back().payload);
    return seen;
}

// The events of one user's sessions among `seen`.
std::vector<event> of_sub(const std::vector<event> &seen, const std::string &sub) {
    std::vector<event> mine;
    std::copy_if(seen.begin(), seen.end(), std::back_inserter(mine),
                 [&](const event &e) { return e.sub == sub; });
    return mine;
}

// A create_options for a session of `sub`.
create_options of(const std::string &sub) {
    create_options options;
    options.sub = sub;
    return options;
}

// Whether an event names the session of this token.
auto names(const std::string &token) {
    return [hash = token_sha256(token)](const event &e) { return e.id_sha256 == hash; };
}

} // namespace

TEST(session_events, token_sha256_matches_the_servers) {
    admin db;
    // Around every padding boundary (55, 56, 63, 64 bytes) and past two blocks.
    for (std::size_t length = 0; length <= 130; length++) {
        std::string text(length, 'x');
        for (std::size_t i = 0; i < length; i++)
            text[i] = static_cast<char>('A' + (i * 7 + length) % 58);
        EXPECT_EQ(token_sha256(text), server_sha256(db, text)) << "length " << length;
    }
    EXPECT_EQ(token_sha256("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(session_events, each_ended_session_is_named_by_its_tokens_sha256_and_handle) {
    subscription events{conninfo()};
    client sessions{default_options()};
    admin db;
    const std::string sub = unique("events");
    std::string removed = sessions.create(of(sub));
    std::string rotated = sessions.create(of(sub));
    std::string by_handle = sessions.create(of(sub));
    std::vector<std::string> by_sub = {sessions.create(of(sub)), sessions.create(of(sub))};
    std::vector<pgsession::session_info> listed = sessions.list(sub);
    ASSERT_EQ(listed.size(), 5u);

    ASSERT_TRUE(sessions.remove(removed));
    std::vector<event> seen = of_sub(events_until(events, names(removed)), sub);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, event_kind::remove);
    EXPECT_EQ(seen[0].id_sha256, server_sha256(db, removed));
    EXPECT_EQ(seen[0].handle, listed[0].handle);
    EXPECT_EQ(seen[0].sub, sub);
    EXPECT_EQ(seen[0].payload.find(removed), std::string::npos); // never the token

    std::optional<std::string> fresh = sessions.rotate(rotated);
    ASSERT_TRUE(fresh);
    seen = of_sub(events_until(events, names(rotated)), sub);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, event_kind::rotate);
    EXPECT_EQ(seen[0].handle, listed[1].handle); // the handle the session keeps
    EXPECT_EQ(seen[0].payload.find(*fresh), std::string::npos);

    ASSERT_TRUE(sessions.remove_by_handle(sub, listed[2].handle));
    seen = of_sub(events_until(events, names(by_handle)), sub);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, event_kind::remove_by_handle);
    EXPECT_EQ(seen[0].handle, listed[2].handle);

    // Log out the other devices: one event per session removed, none for the kept one.
    ASSERT_EQ(sessions.remove_by_sub(sub, *fresh), 2);
    int heard = 0;
    seen = of_sub(events_until(events, [&](const event &) { return ++heard == 2; }), sub);
    ASSERT_EQ(seen.size(), 2u);
    for (const event &e : seen) {
        EXPECT_EQ(e.kind, event_kind::remove_by_sub);
        EXPECT_TRUE(e.id_sha256 == token_sha256(by_sub[0]) ||
                    e.id_sha256 == token_sha256(by_sub[1]))
            << e.payload;
    }
    EXPECT_NE(seen[0].id_sha256, seen[1].id_sha256);
    EXPECT_TRUE(events.poll(200ms).empty());
    EXPECT_TRUE(sessions.get(*fresh));
}

TEST(session_events, a_rolled_back_delete_sends_nothing) {
    subscription events{conninfo()};
    client sessions{default_options()};
    std::string kept = sessions.create();
    std::string marker = sessions.create();
    admin db;
    db.query("BEGIN");
    EXPECT_EQ(db.scalar("SELECT session_delete($1)::text", {kept}), "true");
    db.query("ROLLBACK");
    ASSERT_TRUE(sessions.remove(marker));
    // Events arrive in commit order: the marker's comes after anything of the rollback.
    std::vector<event> seen = events_until(events, names(marker));
    EXPECT_TRUE(std::none_of(seen.begin(), seen.end(), names(kept)));
    EXPECT_TRUE(sessions.get(kept));

    // Committed, the same delete is heard.
    db.query("BEGIN");
    db.query("SELECT session_delete($1)", {kept});
    EXPECT_TRUE(events.poll(200ms).empty()); // not before the commit
    db.query("COMMIT");
    events_until(events, names(kept));
}

TEST(session_events, a_cleanup_call_sends_one_event_with_its_count) {
    subscription events{conninfo()};
    client sessions{default_options()};
    create_options brief;
    brief.idle_timeout = 1s;
    for (int i = 0; i < 3; i++)
        sessions.create(brief);
    std::this_thread::sleep_for(1200ms);
    pgsession::cleanup_options limits;
    limits.batch_size = 1; // three batches or more, in one call
    const std::int64_t removed = sessions.cleanup(limits);
    ASSERT_GE(removed, 3);
    std::vector<event> seen =
        events_until(events, [](const event &e) { return e.kind == event_kind::cleanup; });
    EXPECT_EQ(seen.back().removed, removed);
    EXPECT_TRUE(seen.back().id_sha256.empty());
    EXPECT_TRUE(events.poll(300ms).empty()); // one event, not one per batch or row
    EXPECT_EQ(sessions.cleanup(), 0);
    EXPECT_TRUE(events.poll(300ms).empty()); // nothing removed, nothing sent
}

TEST(session_events, poll_waits_until_its_deadline_and_no_longer) {
    subscription events{conninfo()};
    auto took = elapsed([&] { EXPECT_TRUE(events.poll(400ms).empty()); });
    EXPECT_GE(took, 390ms);
    EXPECT_LT(took, 1500ms);
    took = elapsed([&] { EXPECT_TRUE(events.poll(std::chrono::steady_clock::now()).empty()); });
    EXPECT_LT(took, 100ms);

    // An event that arrives while it waits ends the wait.
    client sessions{default_options()};
    std::string token = sessions.create();
    std::thread remover([&] {
        std::this_thread::sleep_for(200ms);
        client other{default_options()};
        other.remove(token);
    });
    std::vector<event> seen;
    took = elapsed([&] { seen = events.poll(10s); });
    remover.join();
    EXPECT_LT(took, 5s);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].id_sha256, token_sha256(token));
}

TEST(session_events, callback_gets_each_event_and_a_throwing_one_loses_none) {
    subscription events{conninfo()};
    client sessions{default_options()};
    std::vector<std::string> tokens = {sessions.create(), sessions.create(), sessions.create()};
    EXPECT_EQ(sessions.remove_many(tokens), 3);
    std::this_thread::sleep_for(300ms); // all three have arrived
    std::vector<std::string> heard;
    auto on_event = [&](const event &e) {
        heard.push_back(e.id_sha256);
        if (heard.size() == 1)
            throw std::runtime_error("the application failed");
    };
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    EXPECT_THROW(events.poll(deadline, on_event), std::runtime_error);
    while (heard.size() < 3 && std::chrono::steady_clock::now() < deadline)
        events.poll(deadline, on_event);
    ASSERT_EQ(heard.size(), 3u);
    for (std::size_t i = 0; i < tokens.size(); i++)
        EXPECT_EQ(heard[i], token_sha256(tokens[i]));
}

TEST(session_events, listens_on_the_configured_channel_and_reports_foreign_payloads) {
    subscription_options options;
    options.conninfo = conninfo();
    options.channel = "pgsession events \"quoted\"";
    subscription custom{options};
    subscription usual{conninfo()};
    client sessions{default_options()};
    std::string token = sessions.create();
    admin db;
    db.query("SET pgsession.notify_channel = 'pgsession events \"quoted\"'");
    db.query("SELECT session_delete($1)", {token});
    events_until(custom, names(token));
    EXPECT_TRUE(usual.poll(300ms).empty());

    db.query("NOTIFY pgsession, 'not json'");
    std::vector<event> seen = usual.poll(5s);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, event_kind::unknown);
    EXPECT_EQ(seen[0].payload, "not json");

    // Well-formed JSON with fields out of shape is not an event either: a count that is
    // negative or not a whole number, a key that is not 64 lowercase hex digits.
    const std::string key(64, 'a');
    const std::vector<std::string> foreign = {
        R"({"event":"cleanup","removed":-5})",
        R"({"event":"cleanup","removed":5.5})",
        R"({"event":"cleanup","removed":"7 sessions"})",
        R"({"event":"delete","id_sha256":"abc","handle":"h","sub":null})",
        R"({"event":"delete","id_sha256":")" + key + R"(0","handle":"h","sub":null})",
        R"({"event":"delete","id_sha256":")" + std::string(64, 'A') +
            R"(","handle":"h","sub":null})",
    };
    for (const std::string &payload : foreign) {
        db.query("SELECT pg_notify('pgsession', $1)", {payload});
        seen = usual.poll(5s);
        ASSERT_EQ(seen.size(), 1u) << payload;
        EXPECT_EQ(seen[0].kind, event_kind::unknown) << payload;
        EXPECT_EQ(seen[0].removed, 0) << payload;
        EXPECT_TRUE(seen[0].id_sha256.empty()) << payload;
        EXPECT_EQ(seen[0].payload, payload);
    }
    // The same shapes in range are events.
    db.query("SELECT pg_notify('pgsession', $1)", {R"({"event":"cleanup","removed":0})"});
    seen = usual.poll(5s);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, event_kind::cleanup);
    db.query("SELECT pg_notify('pgsession', $1)",
             {R"({"event":"delete","id_sha256":")" + key + R"(","handle":"h","sub":null})"});
    seen = usual.poll(5s);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, event_kind::remove);
    EXPECT_EQ(seen[0].id_sha256, key);

    options.channel = "";
    EXPECT_THROW(subscription{options}, pgsession::bad_input);
    options.channel = std::string(64, 'c');
    EXPECT_THROW(subscription{options}, pgsession::bad_input);
}

TEST(session_events, after_a_server_restart_reports_missed_events_then_delivers_new_ones) {
    const char *restart = std::getenv("PGSESSION_TEST_RESTART_CMD");
    ASSERT_TRUE(restart && *restart) << "PGSESSION_TEST_RESTART_CMD is not set";
    subscription_options options;
    options.conninfo = conninfo();
    options.connect_timeout = 2s;
    subscription events{options};
    EXPECT_TRUE(events.poll(100ms).empty());

    ASSERT_EQ(std::system(restart), 0) << restart;

    // The first thing heard after the restart is `missed`, once listening again.
    std::vector<event> seen;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (seen.empty() && std::chrono::steady_clock::now() < deadline) {
        try {
            seen = events.poll(1s);
        } catch (const pgsession::connection_error &) {
            EXPECT_FALSE(events.connected());
            std::this_thread::sleep_for(100ms);
        }
    }
    ASSERT_FALSE(seen.empty()) << "nothing was reported after the restart";
    EXPECT_EQ(seen[0].kind, event_kind::missed);
    EXPECT_TRUE(events.connected());

    client sessions{default_options()};
    std::string token = sessions.create();
    ASSERT_TRUE(sessions.remove(token));
    seen = events_until(events, names(token));
    EXPECT_TRUE(std::none_of(seen.begin(), seen.end(),
                             [](const event &e) { return e.kind == event_kind::missed; }));
}
