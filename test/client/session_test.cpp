// Every client method against the real extension: what it stores, returns and changes.
#include "support.hpp"

#include <thread>

using namespace std::chrono_literals;
using pgsession::client;
using pgsession::create_options;
using pgsession::field;
using pgsession::save_options;
using pgsession::update_options;
using pgsession::test::conninfo;
using pgsession::test::default_options;
using pgsession::test::unique;

namespace {

// Whether a server time is within a few seconds of this machine's clock.
bool near_now(pgsession::time_point when) {
    const auto now = std::chrono::system_clock::now();
    return when > now - 5s && when < now + 5s;
}

// Updates a live session and reads it back.
std::optional<pgsession::session> updated(client &sessions, const std::string &token,
                                          const update_options &change) {
    EXPECT_TRUE(sessions.update(token, change));
    return sessions.get(token);
}

} // namespace

TEST(session_create, generates_a_43_character_token) {
    client sessions{default_options()};
    std::string token = sessions.create();
    EXPECT_EQ(token.size(), 43u);
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_NE(sessions.create(), token);
}

TEST(session_create, stores_every_field_and_get_returns_them) {
    client sessions{default_options()};
    create_options options;
    options.nonce = "nonce-1";
    options.state = "état ✓ 状態";
    options.code_verifier = "verifier";
    options.access_token = "access";
    options.sub = unique("sub");
    options.data = R"({"cart": [1, 2], "name": "Jane"})";
    options.idle_timeout = 10min;
    options.absolute_timeout = 1h;
    std::string token = sessions.create(options);

    std::optional<pgsession::session> s = sessions.get(token);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->nonce, "nonce-1");
    EXPECT_EQ(s->state, "état ✓ 状態");
    EXPECT_EQ(s->code_verifier, "verifier");
    EXPECT_EQ(s->access_token, "access");
    EXPECT_EQ(s->sub, options.sub);
    EXPECT_EQ(s->data, R"({"cart": [1, 2], "name": "Jane"})");
    EXPECT_TRUE(near_now(s->created_at));
    EXPECT_EQ(s->expires_at - s->created_at, 10min);
    EXPECT_GE(s->last_accessed_at, s->created_at);
    ASSERT_TRUE(s->absolute_expires_at);
    EXPECT_EQ(*s->absolute_expires_at - s->created_at, 1h);
}

TEST(session_create, leaves_absent_fields_empty) {
    client sessions{default_options()};
    create_options options;
    options.absolute_timeout = 0s; // no absolute limit
    std::optional<pgsession::session> s = sessions.get(sessions.create(options));
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->nonce);
    EXPECT_FALSE(s->state);
    EXPECT_FALSE(s->access_token);
    EXPECT_FALSE(s->code_verifier);
    EXPECT_FALSE(s->sub);
    EXPECT_FALSE(s->data);
    EXPECT_FALSE(s->absolute_expires_at);
}

TEST(session_create, uses_a_given_id) {
    client sessions{default_options()};
    create_options options;
    options.id = unique("own-id-0123456789");
    options.sub = "x";
    EXPECT_EQ(sessions.create(options), *options.id);
    ASSERT_TRUE(sessions.get(*options.id));
    EXPECT_EQ(sessions.get(*options.id)->sub, "x");
}

TEST(session_get, unknown_token_is_empty) {
    client sessions{default_options()};
    EXPECT_FALSE(sessions.get(pgsession::test::unknown_token));
}

TEST(session_touch, extends_expiry) {
    client sessions{default_options()};
    create_options options;
    options.idle_timeout = 1h;
    std::string token = sessions.create(options);
    const pgsession::time_point before = sessions.get(token)->expires_at;
    std::this_thread::sleep_for(20ms);
    std::optional<pgsession::time_point> after = sessions.touch(token);
    ASSERT_TRUE(after);
    EXPECT_GT(*after, before);
    EXPECT_EQ(sessions.get(token)->expires_at, *after);
}

TEST(session_touch, unknown_token_is_empty) {
    client sessions{default_options()};
    EXPECT_FALSE(sessions.touch(pgsession::test::unknown_token));
}

TEST(session_update, sets_given_fields_and_clears_listed_ones) {
    client sessions{default_options()};
    create_options options;
    options.nonce = "n";
    options.state = "s";
    options.code_verifier = "v";
    options.data = R"({"a": 1})";
    std::string token = sessions.create(options);

    update_options change;
    change.access_token = "at";
    change.sub = "user-1";
    change.clear = {field::nonce, field::state, field::code_verifier};
    EXPECT_TRUE(sessions.update(token, change));

    std::optional<pgsession::session> s = sessions.get(token);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->nonce);
    EXPECT_FALSE(s->state);
    EXPECT_FALSE(s->code_verifier);
    EXPECT_EQ(s->access_token, "at");
    EXPECT_EQ(s->sub, "user-1");
    EXPECT_EQ(s->data, R"({"a": 1})"); // untouched

    update_options data_only;
    data_only.data = R"({"b": true})";
    EXPECT_TRUE(sessions.update(token, data_only));
    EXPECT_EQ(sessions.get(token)->data, R"({"b": true})");
    EXPECT_EQ(sessions.get(token)->access_token, "at");
}

TEST(session_update, unknown_token_returns_false) {
    client sessions{default_options()};
    update_options change;
    change.sub = "x";
    EXPECT_FALSE(sessions.update(pgsession::test::unknown_token, change));
}

TEST(session_update, idle_timeout_moves_the_expiry) {
    client sessions{default_options()};
    create_options options;
    options.sub = unique("idle");
    options.idle_timeout = 1h;
    std::string token = sessions.create(options);
    const pgsession::time_point before = sessions.get(token)->expires_at;

    update_options longer;
    longer.idle_timeout = 2h;
    std::optional<pgsession::session> s = updated(sessions, token, longer);
    ASSERT_TRUE(s);
    EXPECT_GE(s->expires_at - before, 1h);
    EXPECT_EQ(s->expires_at - s->last_accessed_at, 2h); // an access, recorded now
    EXPECT_TRUE(near_now(s->last_accessed_at));
    EXPECT_EQ(sessions.list(*options.sub).at(0).idle_timeout, 2h);

    update_options shorter;
    shorter.idle_timeout = 1s;
    EXPECT_TRUE(near_now(updated(sessions, token, shorter).value().expires_at));
    std::this_thread::sleep_for(1200ms);
    EXPECT_FALSE(sessions.get(token));
    EXPECT_FALSE(sessions.update(token, longer));
}

TEST(session_update, absolute_timeout_counts_from_creation_and_zero_removes_it) {
    client sessions{default_options()};
    create_options options;
    options.absolute_timeout = 1h;
    std::string token = sessions.create(options);
    const pgsession::time_point created = sessions.get(token)->created_at;

    update_options longer;
    longer.absolute_timeout = 2h;
    std::optional<pgsession::session> s = updated(sessions, token, longer);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->absolute_expires_at);
    EXPECT_EQ(*s->absolute_expires_at, created + 2h);
    EXPECT_EQ(s->created_at, created);

    update_options none;
    none.absolute_timeout = 0s;
    none.sub = "still-here";
    s = updated(sessions, token, none);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->absolute_expires_at);
    EXPECT_EQ(s->sub, "still-here");
}

TEST(session_save, creates_a_session_under_the_given_id) {
    client sessions{default_options()};
    const std::string id = unique("saved-id-0123456789");
    save_options options;
    options.data = R"({"cart": [1, 2]})";
    options.sub = unique("saver");
    options.nonce = "n";
    options.state = "s";
    options.code_verifier = "v";
    options.access_token = "at";
    options.idle_timeout = 10min;
    options.absolute_timeout = 1h;
    const pgsession::time_point expires = sessions.save(id, options);
    EXPECT_TRUE(near_now(expires - 10min));

    std::optional<pgsession::session> s = sessions.get(id);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->data, R"({"cart": [1, 2]})");
    EXPECT_EQ(s->sub, options.sub);
    EXPECT_EQ(s->nonce, "n");
    EXPECT_EQ(s->state, "s");
    EXPECT_EQ(s->code_verifier, "v");
    EXPECT_EQ(s->access_token, "at");
    EXPECT_EQ(s->expires_at, expires);
    EXPECT_EQ(s->expires_at - s->created_at, 10min);
    ASSERT_TRUE(s->absolute_expires_at);
    EXPECT_EQ(*s->absolute_expires_at - s->created_at, 1h);
    EXPECT_TRUE(near_now(s->created_at));

    // Without anything but the id: a session with no fields and the server's timeouts.
    const std::string bare = unique("bare-id-0123456789");
    sessions.save(bare);
    s = sessions.get(bare);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->data);
    EXPECT_FALSE(s->sub);
    EXPECT_FALSE(s->nonce);
}

TEST(session_save, replaces_the_whole_session_and_keeps_created_at_and_absolute_expiry) {
    client sessions{default_options()};
    const std::string id = unique("resaved-id-0123456789");
    const std::string sub = unique("resaver");
    save_options first;
    first.data = R"({"step": 1})";
    first.sub = sub;
    first.nonce = "n";
    first.state = "s";
    first.idle_timeout = 10min;
    first.absolute_timeout = 1h;
    const pgsession::time_point first_expiry = sessions.save(id, first);
    const pgsession::session before = sessions.get(id).value();
    std::this_thread::sleep_for(20ms);

    save_options second;
    second.data = R"({"step": 2})";
    second.sub = sub;
    const pgsession::time_point second_expiry = sessions.save(id, second);
    EXPECT_GT(second_expiry, first_expiry); // a save counts as an access

    std::optional<pgsession::session> s = sessions.get(id);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->data, R"({"step": 2})");
    EXPECT_EQ(s->sub, sub);
    EXPECT_FALSE(s->nonce); // not given, so emptied
    EXPECT_FALSE(s->state);
    EXPECT_EQ(s->created_at, before.created_at);
    EXPECT_EQ(s->absolute_expires_at, before.absolute_expires_at);
    EXPECT_EQ(s->expires_at, second_expiry);
    EXPECT_EQ(s->expires_at - s->last_accessed_at, 10min); // the idle timeout is kept
    std::vector<pgsession::session_info> listed = sessions.list(sub);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].idle_timeout, 10min);

    // Given timeouts replace the kept ones; the absolute one counts from created_at.
    save_options third;
    third.idle_timeout = 20min;
    third.absolute_timeout = 2h;
    const pgsession::time_point third_expiry = sessions.save(id, third);
    s = sessions.get(id);
    ASSERT_TRUE(s);
    EXPECT_EQ(third_expiry - s->last_accessed_at, 20min);
    EXPECT_EQ(s->created_at, before.created_at);
    EXPECT_EQ(s->absolute_expires_at, before.created_at + 2h);
    EXPECT_FALSE(s->data);
    EXPECT_FALSE(s->sub);

    save_options unlimited;
    unlimited.absolute_timeout = 0s;
    sessions.save(id, unlimited);
    EXPECT_FALSE(sessions.get(id)->absolute_expires_at);
}

TEST(session_save, over_an_expired_session_makes_a_new_one) {
    client sessions{default_options()};
    const std::string id = unique("expired-save-0123456789");
    save_options first;
    first.sub = "old";
    first.state = "old-state";
    first.idle_timeout = 1s;
    sessions.save(id, first);
    const pgsession::time_point first_created = sessions.get(id)->created_at;
    std::this_thread::sleep_for(1200ms);
    ASSERT_FALSE(sessions.get(id));

    save_options second;
    second.data = R"({"fresh": true})";
    second.idle_timeout = 10min;
    const pgsession::time_point expires = sessions.save(id, second);
    std::optional<pgsession::session> s = sessions.get(id);
    ASSERT_TRUE(s);
    EXPECT_GT(s->created_at, first_created + 1s);
    EXPECT_TRUE(near_now(s->created_at));
    EXPECT_EQ(s->expires_at, expires);
    EXPECT_EQ(s->expires_at - s->created_at, 10min);
    EXPECT_FALSE(s->sub);
    EXPECT_FALSE(s->state);
    EXPECT_EQ(s->data, R"({"fresh": true})");
}

TEST(session_remove, returns_whether_the_session_was_live) {
    client sessions{default_options()};
    std::string token = sessions.create();
    EXPECT_TRUE(sessions.remove(token));
    EXPECT_FALSE(sessions.get(token));
    EXPECT_FALSE(sessions.remove(token));
}

TEST(session_rotate, gives_a_new_token_and_retires_the_old_one) {
    client sessions{default_options()};
    create_options options;
    options.sub = "rotated";
    std::string token = sessions.create(options);
    std::optional<std::string> rotated = sessions.rotate(token);
    ASSERT_TRUE(rotated);
    EXPECT_NE(*rotated, token);
    EXPECT_FALSE(sessions.get(token));
    ASSERT_TRUE(sessions.get(*rotated));
    EXPECT_EQ(sessions.get(*rotated)->sub, "rotated");
    EXPECT_FALSE(sessions.rotate(token));
}

TEST(session_list, returns_metadata_of_a_users_live_sessions_oldest_first) {
    client sessions{default_options()};
    const std::string sub = unique("list");
    create_options options;
    options.sub = sub;
    options.idle_timeout = 20min;
    sessions.create(options);
    std::this_thread::sleep_for(5ms);
    options.idle_timeout = 30min;
    options.absolute_timeout = 0s;
    std::string second = sessions.create(options);

    std::vector<pgsession::session_info> listed = sessions.list(sub);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_LT(listed[0].created_at, listed[1].created_at);
    EXPECT_EQ(listed[0].idle_timeout, 20min);
    EXPECT_EQ(listed[1].idle_timeout, 30min);
    EXPECT_FALSE(listed[1].absolute_expires_at);
    EXPECT_EQ(listed[1].expires_at - listed[1].created_at, 30min);
    EXPECT_TRUE(near_now(listed[1].last_accessed_at));

    sessions.remove(second);
    EXPECT_EQ(sessions.list(sub).size(), 1u);
    EXPECT_TRUE(sessions.list(unique("nobody")).empty());
}

TEST(session_remove_by_sub, removes_every_session_of_the_user) {
    client sessions{default_options()};
    const std::string sub = unique("everywhere");
    create_options options;
    options.sub = sub;
    std::vector<std::string> tokens = {sessions.create(options), sessions.create(options),
                                       sessions.create(options)};
    std::string other = sessions.create();
    EXPECT_EQ(sessions.remove_by_sub(sub), 3);
    for (const std::string &token : tokens)
        EXPECT_FALSE(sessions.get(token));
    EXPECT_TRUE(sessions.get(other));
    EXPECT_EQ(sessions.remove_by_sub(sub), 0);
}

TEST(session_expiry, expired_session_is_unknown_to_every_method) {
    client sessions{default_options()};
    create_options options;
    options.sub = unique("expiring");
    options.idle_timeout = 1s;
    std::string token = sessions.create(options);
    ASSERT_TRUE(sessions.get(token));
    std::this_thread::sleep_for(1200ms);

    EXPECT_FALSE(sessions.get(token));
    EXPECT_FALSE(sessions.touch(token));
    update_options change;
    change.state = "s";
    EXPECT_FALSE(sessions.update(token, change));
    EXPECT_FALSE(sessions.rotate(token));
    EXPECT_TRUE(sessions.list(*options.sub).empty());
    EXPECT_FALSE(sessions.remove(token));
    // Its id may be used again once it has expired.
    create_options reuse;
    reuse.id = unique("reused-id-0123456789");
    reuse.idle_timeout = 1s;
    sessions.create(reuse);
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(sessions.create(reuse), *reuse.id);
}

TEST(session_cleanup, removes_expired_sessions) {
    client sessions{default_options()};
    create_options options;
    options.idle_timeout = 1s;
    for (int i = 0; i < 3; i++)
        sessions.create(options);
    std::string live = sessions.create();
    std::this_thread::sleep_for(1200ms);
    pgsession::cleanup_options limits;
    limits.batch_size = 1;
    limits.max_batches = 1;
    EXPECT_EQ(sessions.cleanup(limits), 1);
    EXPECT_GE(sessions.cleanup(), 2);
    EXPECT_EQ(sessions.cleanup(), 0);
    EXPECT_TRUE(sessions.get(live));
}

TEST(session_get_many, returns_each_tokens_session_in_order) {
    client sessions{default_options()};
    std::vector<std::string> tokens;
    for (int i = 0; i < 5; i++) {
        create_options options;
        options.sub = "user-" + std::to_string(i);
        tokens.push_back(sessions.create(options));
    }
    tokens.insert(tokens.begin() + 2, pgsession::test::unknown_token);
    std::vector<std::optional<pgsession::session>> found = sessions.get_many(tokens);
    ASSERT_EQ(found.size(), 6u);
    EXPECT_EQ(found[0]->sub, "user-0");
    EXPECT_EQ(found[1]->sub, "user-1");
    EXPECT_FALSE(found[2]);
    EXPECT_EQ(found[3]->sub, "user-2");
    EXPECT_EQ(found[5]->sub, "user-4");
    EXPECT_TRUE(sessions.get_many({}).empty());
}

TEST(session_get_many, handles_large_batches) {
    client sessions{default_options()};
    std::vector<std::string> tokens;
    for (int i = 0; i < 50; i++)
        tokens.push_back(sessions.create());
    std::vector<std::string> batch;
    for (int i = 0; i < 2000; i++)
        batch.push_back(tokens[i % tokens.size()]);
    std::vector<std::optional<pgsession::session>> found = sessions.get_many(batch);
    ASSERT_EQ(found.size(), batch.size());
    for (const auto &s : found)
        EXPECT_TRUE(s);
    EXPECT_EQ(sessions.remove_many(tokens), 50);
    EXPECT_EQ(sessions.remove_many(tokens), 0);
}

TEST(session_client, finds_functions_in_a_named_schema_and_refuses_a_wrong_one) {
    pgsession::client_options options = default_options();
    options.schema = "public";
    client named{options};
    EXPECT_TRUE(named.get(named.create()));

    options.schema = "no_such_schema";
    EXPECT_THROW(client{options}, pgsession::error);
}

TEST(session_client, moved_client_keeps_working) {
    client first{default_options()};
    std::string token = first.create();
    client second = std::move(first);
    EXPECT_TRUE(second.get(token));
    client third{default_options()};
    third = std::move(second);
    EXPECT_TRUE(third.remove(token));
}
