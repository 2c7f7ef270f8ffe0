// A user's own sessions: list() with handles and device metadata, remove_by_handle(),
// and remove_by_sub() keeping the caller's session.
#include "support.hpp"

#include <set>

using pgsession::client;
using pgsession::create_options;
using pgsession::field;
using pgsession::session_info;
using pgsession::update_options;
using pgsession::test::default_options;
using pgsession::test::unique;

namespace {

// What create() stores for a session of `sub` on a device.
create_options device(const std::string &sub, std::optional<std::string> user_agent,
                      std::optional<std::string> ip) {
    create_options options;
    options.sub = sub;
    options.user_agent = std::move(user_agent);
    options.ip = std::move(ip);
    return options;
}

// The one session list() shows for `sub`.
session_info only_session(client &sessions, const std::string &sub) {
    std::vector<session_info> listed = sessions.list(sub);
    EXPECT_EQ(listed.size(), 1u);
    return listed.empty() ? session_info{} : listed.front();
}

// Whether `text` has the form of a UUID's text (8-4-4-4-12 lowercase hex digits).
bool looks_like_uuid(const std::string &text) {
    if (text.size() != 36)
        return false;
    for (std::size_t i = 0; i < text.size(); i++) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-'
                 : std::string("0123456789abcdef").find(text[i]) == std::string::npos)
            return false;
    }
    return true;
}

// Runs `call`, expecting bad_input with this SQLSTATE.
template <class Call> void expect_bad_input(Call &&call, const std::string &sqlstate) {
    try {
        call();
        ADD_FAILURE() << "no exception; expected SQLSTATE " << sqlstate;
    } catch (const pgsession::bad_input &e) {
        EXPECT_EQ(e.sqlstate(), sqlstate) << e.what();
    }
}

} // namespace

TEST(session_devices, list_returns_each_sessions_handle_and_device) {
    client sessions{default_options()};
    const std::string sub = unique("devices");
    sessions.create(device(sub, "Mozilla/5.0 (iPhone)", "192.0.2.7"));
    sessions.create(device(sub, std::nullopt, "2001:db8::1"));

    std::vector<session_info> listed = sessions.list(sub);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].user_agent, "Mozilla/5.0 (iPhone)");
    EXPECT_EQ(listed[0].ip, "192.0.2.7"); // the inet's output form, no "/32"
    EXPECT_FALSE(listed[1].user_agent);
    EXPECT_EQ(listed[1].ip, "2001:db8::1");
    EXPECT_TRUE(looks_like_uuid(listed[0].handle)) << listed[0].handle;
    EXPECT_TRUE(looks_like_uuid(listed[1].handle)) << listed[1].handle;
    EXPECT_NE(listed[0].handle, listed[1].handle);
}

TEST(session_devices, update_changes_and_clears_the_device_and_save_keeps_it) {
    client sessions{default_options()};
    const std::string sub = unique("device-update");
    std::string token = sessions.create(device(sub, "old agent", "198.51.100.1"));

    update_options change;
    change.user_agent = "new agent";
    ASSERT_TRUE(sessions.update(token, change));
    session_info info = only_session(sessions, sub);
    EXPECT_EQ(info.user_agent, "new agent");
    EXPECT_EQ(info.ip, "198.51.100.1");

    update_options clear;
    clear.ip = "198.51.100.2";
    clear.clear = {field::user_agent};
    ASSERT_TRUE(sessions.update(token, clear));
    info = only_session(sessions, sub);
    EXPECT_FALSE(info.user_agent);
    EXPECT_EQ(info.ip, "198.51.100.2");
    clear = {};
    clear.clear = {field::ip};
    ASSERT_TRUE(sessions.update(token, clear));
    EXPECT_FALSE(only_session(sessions, sub).ip);

    // save: given metadata is stored; absent metadata keeps a live session's.
    const std::string id = unique("device-save-id-0123456789");
    const std::string saved_sub = unique("device-save");
    pgsession::save_options save;
    save.sub = saved_sub;
    save.user_agent = "saved agent";
    save.ip = "203.0.113.9";
    sessions.save(id, save);
    save.user_agent.reset();
    save.ip.reset();
    sessions.save(id, save);
    info = only_session(sessions, saved_sub);
    EXPECT_EQ(info.user_agent, "saved agent");
    EXPECT_EQ(info.ip, "203.0.113.9");
}

TEST(session_devices, handle_stays_across_rotation) {
    client sessions{default_options()};
    const std::string sub = unique("device-rotate");
    std::string token = sessions.create(device(sub, "agent", std::nullopt));
    const std::string before = only_session(sessions, sub).handle;
    std::optional<std::string> rotated = sessions.rotate(token);
    ASSERT_TRUE(rotated);
    EXPECT_EQ(only_session(sessions, sub).handle, before);
    EXPECT_NE(before, token);
    EXPECT_NE(before, *rotated);
    EXPECT_FALSE(sessions.get(before)); // a handle resumes nothing
}

TEST(session_devices, remove_by_handle_ends_only_that_users_session) {
    client sessions{default_options()};
    const std::string alice = unique("alice");
    const std::string mallory = unique("mallory");
    create_options options;
    options.sub = alice;
    std::string kept = sessions.create(options);
    std::string ended = sessions.create(options);
    std::vector<session_info> listed = sessions.list(alice);
    ASSERT_EQ(listed.size(), 2u);
    const std::string handle = listed[1].handle;

    // Another user's handle: false, and nothing is removed.
    EXPECT_FALSE(sessions.remove_by_handle(mallory, handle));
    EXPECT_EQ(sessions.list(alice).size(), 2u);
    EXPECT_TRUE(sessions.get(ended));
    // An unknown handle: false.
    EXPECT_FALSE(sessions.remove_by_handle(alice, "00000000-0000-4000-8000-000000000000"));

    EXPECT_TRUE(sessions.remove_by_handle(alice, handle));
    EXPECT_FALSE(sessions.get(ended));
    EXPECT_TRUE(sessions.get(kept));
    EXPECT_EQ(only_session(sessions, alice).handle, listed[0].handle);
    EXPECT_FALSE(sessions.remove_by_handle(alice, handle));

    expect_bad_input([&] { sessions.remove_by_handle(alice, "not-a-uuid"); }, "22P02");
    EXPECT_TRUE(sessions.get(kept)); // the client is still usable
}

TEST(session_devices, remove_by_sub_keeps_the_callers_session) {
    client sessions{default_options()};
    const std::string sub = unique("others");
    const create_options options = device(sub, std::nullopt, std::nullopt);
    std::string mine = sessions.create(options);
    std::vector<std::string> others = {sessions.create(options), sessions.create(options)};
    create_options stranger;
    stranger.sub = unique("stranger");
    std::string strangers = sessions.create(stranger);

    EXPECT_EQ(sessions.remove_by_sub(sub, mine), 2);
    EXPECT_TRUE(sessions.get(mine));
    for (const std::string &token : others)
        EXPECT_FALSE(sessions.get(token));
    EXPECT_EQ(sessions.remove_by_sub(sub, mine), 0);

    // Another user's token keeps nothing of this user's, and that session survives.
    EXPECT_EQ(sessions.remove_by_sub(sub, strangers), 1);
    EXPECT_FALSE(sessions.get(mine));
    EXPECT_TRUE(sessions.get(strangers));
}

TEST(session_devices, device_values_are_bounded_and_checked) {
    client sessions{default_options()};
    const std::string sub = unique("device-bounds");
    create_options options = device(sub, std::string(512, 'a'), std::nullopt);
    sessions.create(options);
    EXPECT_EQ(only_session(sessions, sub).user_agent, std::string(512, 'a'));

    options.user_agent = std::string(513, 'a');
    expect_bad_input([&] { sessions.create(options); }, "22001");
    options.user_agent.reset();
    options.ip = "999.1.1.1";
    expect_bad_input([&] { sessions.create(options); }, "22P02");
    options.ip = "";
    expect_bad_input([&] { sessions.create(options); }, "22P02");

    std::string token = sessions.create({});
    update_options change;
    change.ip = "localhost";
    expect_bad_input([&] { sessions.update(token, change); }, "22P02");
    pgsession::save_options save;
    save.user_agent = std::string(600, 'x');
    expect_bad_input([&] { sessions.save(unique("device-bad-save-0123456789"), save); }, "22001");
    EXPECT_EQ(sessions.list(sub).size(), 1u);
}

TEST(session_devices, an_extension_older_than_the_client_gets_a_hint_to_update) {
    pgsession::test::admin admin;
    const std::string database = "pgsession_client_old_extension";
    admin.query("DROP DATABASE IF EXISTS " + database);
    admin.query("CREATE DATABASE " + database);
    {
        pgsession::test::admin old(pgsession::test::conninfo_with("dbname=" + database));
        old.query("CREATE EXTENSION pgsession VERSION '0.1.0'");
    }
    try {
        // Prepared statements fail when connecting, unprepared ones at the first call.
        client sessions{default_options(pgsession::test::conninfo_with("dbname=" + database))};
        sessions.create();
        ADD_FAILURE() << "the 0.2.0 calls worked on 0.1.0";
    } catch (const pgsession::error &e) {
        EXPECT_EQ(e.sqlstate(), "42883") << e.what();
        EXPECT_NE(e.hint().find("ALTER EXTENSION pgsession UPDATE"), std::string::npos) << e.hint();
    }
    admin.query("DROP DATABASE " + database);
}
