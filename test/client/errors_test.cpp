// Bad input, duplicates and privileges: each gives its exception kind, with the
// server's SQLSTATE and message, and leaves the client usable.
#include "support.hpp"

using pgsession::client;
using pgsession::create_options;
using pgsession::test::conninfo;
using pgsession::test::default_options;
using pgsession::test::unique;

namespace {

// Runs `call`, expecting exception E with this SQLSTATE; returns its message.
template <class E, class Call> std::string expect_error(Call &&call, const std::string &sqlstate) {
    try {
        call();
    } catch (const E &e) {
        EXPECT_EQ(e.sqlstate(), sqlstate) << e.what();
        EXPECT_NE(std::string(e.what()).find(sqlstate), std::string::npos) << e.what();
        return e.message();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "unexpected exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "no exception; expected SQLSTATE " << sqlstate;
    return {};
}

} // namespace

TEST(session_errors, duplicate_id_throws_duplicate) {
    client sessions{default_options()};
    create_options options;
    options.id = unique("duplicate-id-0123456789");
    sessions.create(options);
    std::string message =
        expect_error<pgsession::duplicate>([&] { sessions.create(options); }, "23505");
    EXPECT_NE(message.find("already exists"), std::string::npos) << message;
    EXPECT_TRUE(sessions.get(*options.id)); // the first one is untouched
}

TEST(session_errors, over_long_values_throw_bad_input) {
    client sessions{default_options()};
    create_options nonce;
    nonce.nonce = std::string(256, 'n');
    std::string message =
        expect_error<pgsession::bad_input>([&] { sessions.create(nonce); }, "22001");
    EXPECT_NE(message.find("nonce is too long"), std::string::npos) << message;

    create_options token;
    token.access_token = std::string(16385, 'a');
    expect_error<pgsession::bad_input>([&] { sessions.create(token); }, "22001");
    // A token too long to be one names no session (the server reads malformed tokens as
    // unknown).
    EXPECT_FALSE(sessions.get(std::string(256, 't')));
    create_options data;
    data.data = R"({"blob": ")" + std::string(1024 * 1024, 'x') + R"("})";
    message = expect_error<pgsession::bad_input>([&] { sessions.create(data); }, "22001");
    EXPECT_NE(message.find("data is too large"), std::string::npos) << message;

    // At the limit is fine, counted in characters, not bytes.
    create_options at_limit;
    at_limit.nonce = std::string(255, 'n');
    std::string wide;
    for (int i = 0; i < 255; i++)
        wide += "é";
    at_limit.sub = wide;
    EXPECT_EQ(sessions.get(sessions.create(at_limit))->sub, wide);
}

TEST(session_errors, invalid_utf8_throws_bad_input) {
    client sessions{default_options()};
    create_options options;
    options.state = "bad \xff\xfe bytes";
    expect_error<pgsession::bad_input>([&] { sessions.create(options); }, "22021");
    std::string token = sessions.create();
    pgsession::update_options change;
    change.sub = "\xc3";
    expect_error<pgsession::bad_input>([&] { sessions.update(token, change); }, "22021");
    EXPECT_TRUE(sessions.get(token));
}

TEST(session_errors, nul_bytes_are_refused_before_reaching_the_server) {
    client sessions{default_options()};
    std::string token = sessions.create();
    create_options options;
    options.nonce = std::string("before\0after", 12);
    std::string message =
        expect_error<pgsession::bad_input>([&] { sessions.create(options); }, "22021");
    EXPECT_NE(message.find("nonce contains a NUL byte"), std::string::npos) << message;
    expect_error<pgsession::bad_input>([&] { sessions.get(token + std::string(1, '\0')); },
                                       "22021");
    pgsession::update_options change;
    change.data = std::string("{\"a\": \"\0\"}", 10);
    expect_error<pgsession::bad_input>([&] { sessions.update(token, change); }, "22021");
    EXPECT_TRUE(sessions.get(token));
}

TEST(session_errors, malformed_or_non_object_data_throws_bad_input) {
    client sessions{default_options()};
    create_options malformed;
    malformed.data = "{not json";
    expect_error<pgsession::bad_input>([&] { sessions.create(malformed); }, "22P02");
    create_options array;
    array.data = "[1, 2]";
    std::string message =
        expect_error<pgsession::bad_input>([&] { sessions.create(array); }, "22023");
    EXPECT_NE(message.find("JSON object"), std::string::npos) << message;
}

TEST(session_errors, bad_tokens_and_timeouts_throw_bad_input) {
    client sessions{default_options()};
    // Malformed tokens are unknown sessions, not errors.
    EXPECT_FALSE(sessions.get(""));
    EXPECT_FALSE(sessions.remove("too-short"));
    create_options own;
    own.id = "has spaces in it, which are not visible ascii";
    expect_error<pgsession::bad_input>([&] { sessions.create(own); }, "22023");
    create_options negative;
    negative.idle_timeout = std::chrono::seconds{-1};
    expect_error<pgsession::bad_input>([&] { sessions.create(negative); }, "22023");
    create_options zero;
    zero.idle_timeout = std::chrono::seconds{0};
    expect_error<pgsession::bad_input>([&] { sessions.create(zero); }, "22023");
    pgsession::cleanup_options limits;
    limits.batch_size = 0;
    expect_error<pgsession::bad_input>([&] { sessions.cleanup(limits); }, "22023");
    expect_error<pgsession::bad_input>([&] { sessions.list(""); }, "22023");
}

TEST(session_errors, save_with_a_bad_id_or_value_throws_bad_input) {
    client sessions{default_options()};
    const std::string good = unique("good-save-id-0123456789");
    std::string message = expect_error<pgsession::bad_input>(
        [&] { sessions.save("semicolon;in-the-id-0123456789"); }, "22023");
    EXPECT_NE(message.find("id is not a valid cookie value"), std::string::npos) << message;
    message = expect_error<pgsession::bad_input>([&] { sessions.save(""); }, "22023");
    EXPECT_NE(message.find("id must not be empty"), std::string::npos) << message;
    expect_error<pgsession::bad_input>([&] { sessions.save(good + std::string(1, '\0')); },
                                       "22021");
    pgsession::save_options array;
    array.data = "[1, 2]";
    expect_error<pgsession::bad_input>([&] { sessions.save(good, array); }, "22023");
    pgsession::save_options negative;
    negative.idle_timeout = std::chrono::seconds{-1};
    expect_error<pgsession::bad_input>([&] { sessions.save(good, negative); }, "22023");
    EXPECT_FALSE(sessions.get(good)); // nothing was saved
    sessions.save(good);              // and the client is still usable
    EXPECT_TRUE(sessions.get(good));

    pgsession::update_options bad_timeout;
    bad_timeout.idle_timeout = std::chrono::seconds{0};
    expect_error<pgsession::bad_input>([&] { sessions.update(good, bad_timeout); }, "22023");
    bad_timeout.idle_timeout.reset();
    bad_timeout.absolute_timeout = std::chrono::seconds{-1};
    expect_error<pgsession::bad_input>([&] { sessions.update(good, bad_timeout); }, "22023");
    EXPECT_TRUE(sessions.get(good));
}

TEST(session_errors, setting_and_clearing_a_field_at_once_throws_bad_input) {
    client sessions{default_options()};
    std::string token = sessions.create();
    pgsession::update_options change;
    change.nonce = "n";
    change.clear = {pgsession::field::nonce};
    std::string message =
        expect_error<pgsession::bad_input>([&] { sessions.update(token, change); }, "22023");
    EXPECT_NE(message.find("both given a value and cleared"), std::string::npos) << message;
}

TEST(session_errors, administrative_calls_need_a_grant) {
    pgsession::test::admin admin;
    const std::string role = "pgsession_client_test_user";
    admin.query("DROP ROLE IF EXISTS " + role);
    admin.query("CREATE ROLE " + role + " LOGIN");
    {
        client sessions{default_options(pgsession::test::conninfo_with("user=" + role))};
        std::string token = sessions.create(); // per-session functions: everybody
        EXPECT_TRUE(sessions.get(token));
        expect_error<pgsession::permission_denied>([&] { sessions.list("someone"); }, "42501");
        expect_error<pgsession::permission_denied>([&] { sessions.remove_by_sub("someone"); },
                                                   "42501");
        expect_error<pgsession::permission_denied>([&] { sessions.cleanup(); }, "42501");
        EXPECT_TRUE(sessions.remove(token));
    }
    admin.query("DROP ROLE " + role);
}

TEST(session_errors, database_without_the_extension_is_refused_at_connect) {
    pgsession::test::admin admin;
    const std::string database = "pgsession_client_no_extension";
    admin.query("DROP DATABASE IF EXISTS " + database);
    admin.query("CREATE DATABASE " + database);
    std::string message = expect_error<pgsession::error>(
        [&] {
            client sessions{default_options(pgsession::test::conninfo_with("dbname=" + database))};
        },
        "42704");
    EXPECT_NE(message.find("not installed"), std::string::npos) << message;
    admin.query("DROP DATABASE " + database);
}
