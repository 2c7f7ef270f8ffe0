// The client's session fields checked against the installed extension's catalog: the
// extension lists its fields once (extension/include/pgsession/fields.hpp, checked
// against the catalog by test/sql/fields.sql); the client, a separate library that
// talks to any 0.2.0 server, cannot include that header, so these tests hold it to the
// catalog instead.  A field added to the extension fails them until the client maps it.
#include "support.hpp"

#include <map>
#include <set>

using pgsession::client;
using pgsession::field;
using pgsession::session;
using pgsession::update_options;
using pgsession::test::admin;
using pgsession::test::default_options;
using pgsession::test::unique;

namespace {

// The member of `session` that get() fills from each text (or jsonb) attribute of the
// pgsession.session type, by the attribute's name.
const std::map<std::string, std::optional<std::string> session::*> kSessionMembers = {
    {"nonce", &session::nonce},
    {"state", &session::state},
    {"access_token", &session::access_token},
    {"code_verifier", &session::code_verifier},
    {"sub", &session::sub},
    {"data", &session::data},
};

// The column of pgsession.sessions each `field` clears (update_options::clear).
const std::map<field, std::string> kFieldColumns = {
    {field::nonce, "nonce"},
    {field::state, "state"},
    {field::access_token, "access_token"},
    {field::code_verifier, "code_verifier"},
    {field::sub, "sub"},
    {field::data, "data"},
    {field::user_agent, "user_agent"},
    {field::ip, "ip"},
};

} // namespace

TEST(fields, get_reads_every_text_attribute_of_the_result_type_into_its_own_member) {
    admin db;
    // Every text and jsonb attribute of the installed result type, in order.
    std::vector<std::optional<std::string>> attributes =
        db.query("SELECT attname FROM pg_attribute WHERE attrelid = 'pgsession.session'::regclass "
                 "AND attnum > 0 AND NOT attisdropped "
                 "AND atttypid IN ('text'::regtype, 'jsonb'::regtype) ORDER BY attnum");
    std::set<std::string> names;
    for (const auto &name : attributes)
        names.insert(name.value_or(""));
    std::set<std::string> mapped;
    for (const auto &[name, member] : kSessionMembers)
        mapped.insert(name);
    EXPECT_EQ(names, mapped) << "the client's session struct and pgsession.session differ";

    // A session whose every such field holds its own name (data: {"field": "data"}),
    // made by SQL built from the catalog, then read by the client.
    const std::string create_sql = db.scalar(
        "SELECT format('SELECT session_create(%s)', string_agg(format('%I => %L', attname, "
        "CASE WHEN atttypid = 'jsonb'::regtype THEN '{\"field\": \"data\"}' ELSE attname END), "
        "', ')) FROM pg_attribute WHERE attrelid = 'pgsession.session'::regclass "
        "AND attnum > 0 AND NOT attisdropped "
        "AND atttypid IN ('text'::regtype, 'jsonb'::regtype)");
    const std::string id = db.scalar(create_sql);
    client sessions(default_options());
    std::optional<session> read = sessions.get(id);
    ASSERT_TRUE(read.has_value());
    for (const auto &[name, member] : kSessionMembers) {
        const std::string expected = name == "data" ? "{\"field\": \"data\"}" : name;
        EXPECT_EQ((*read).*member, expected) << "session::" << name;
    }
    sessions.remove(id);
}

TEST(fields, every_field_the_client_clears_is_a_column_the_server_clears) {
    admin db;
    std::vector<std::optional<std::string>> columns =
        db.query("SELECT attname FROM pg_attribute WHERE attrelid = 'pgsession.sessions'::regclass "
                 "AND attnum > 0 AND NOT attisdropped");
    std::set<std::string> table;
    for (const auto &name : columns)
        table.insert(name.value_or(""));

    client sessions(default_options());
    pgsession::create_options all;
    all.nonce = "n";
    all.state = "s";
    all.access_token = "a";
    all.code_verifier = "c";
    all.sub = unique("fields-sub");
    all.data = "{}";
    all.user_agent = "agent";
    all.ip = "192.0.2.1";
    const std::string token = sessions.create(all);
    for (const auto &[which, column] : kFieldColumns) {
        ASSERT_EQ(table.count(column), 1u) << column << " is not a column of pgsession.sessions";
        EXPECT_EQ(db.scalar("SELECT (" + column +
                                " IS NOT NULL)::text FROM pgsession.sessions WHERE id_hash = "
                                "sha256(convert_to($1, 'UTF8'))",
                            {token}),
                  "true")
            << column << " before clearing it";
        update_options clear;
        clear.clear = {which};
        EXPECT_TRUE(sessions.update(token, clear)) << column;
        EXPECT_EQ(db.scalar("SELECT (" + column +
                                " IS NULL)::text FROM pgsession.sessions WHERE id_hash = "
                                "sha256(convert_to($1, 'UTF8'))",
                            {token}),
                  "true")
            << "clearing field " << column << " emptied that column";
    }
    sessions.remove(token);
}
