// The client behind a real PgBouncer in transaction mode with two server connections
// (test/client/run.sh starts it; PGSESSION_TEST_PGBOUNCER_CONNINFO names it): without
// prepared statements every call works from many threads and leaves nothing behind on
// the server connections; with them, calls fail.
#include "support.hpp"

#include <atomic>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using pgsession::client;
using pgsession::test::admin;
using pgsession::test::pgbouncer_conninfo;
using pgsession::test::unique;

namespace {

// A client through PgBouncer; its call timeout (hence statement_timeout) is 7 s, a value
// nobody else uses, so that it shows wherever it leaks.
pgsession::client_options pooled_options(bool prepared,
                                         const std::string &info = pgbouncer_conninfo()) {
    pgsession::client_options options;
    options.conninfo = info;
    options.prepared_statements = prepared;
    options.call_timeout = 7s;
    options.connect_timeout = 5s;
    return options;
}

// What one session's life through PgBouncer got wrong, empty when nothing.
std::string session_life(client &sessions, const std::string &sub) {
    pgsession::create_options create;
    create.sub = sub;
    create.data = R"({"n": 1})";
    const std::string token = sessions.create(create);
    std::optional<pgsession::session> s = sessions.get(token);
    if (!s || s->sub != sub || s->data != R"({"n": 1})")
        return "get after create";
    pgsession::update_options change;
    change.data = R"({"n": 2})";
    change.clear = {pgsession::field::sub};
    if (!sessions.update(token, change))
        return "update";
    std::vector<std::optional<pgsession::session>> found =
        sessions.get_many({token, pgsession::test::unknown_token, token});
    if (found.size() != 3 || !found[0] || found[0]->sub || found[0]->data != R"({"n": 2})" ||
        found[1] || !found[2])
        return "get_many after update";
    if (!sessions.remove(token))
        return "remove";
    if (sessions.get(token) || sessions.remove(token))
        return "get or remove after remove";
    return {};
}

// One row per server connection of PgBouncer's pool: its pid, statement_timeout, how many
// prepared statements it holds and the settings made with SET other than those PgBouncer
// itself keeps in step with its clients.  Two transactions held open at once take both
// of the pool's server connections.
std::vector<std::string> server_connections() {
    const std::string probe =
        "SELECT concat_ws(' | ', pg_backend_pid(), current_setting('statement_timeout'),"
        " (SELECT count(*) FROM pg_catalog.pg_prepared_statements),"
        " (SELECT string_agg(name, ',') FROM pg_catalog.pg_settings WHERE source = 'session'"
        "  AND name NOT IN ('client_encoding', 'application_name', 'DateStyle', 'TimeZone',"
        "  'IntervalStyle', 'standard_conforming_strings')))";
    admin one{pgbouncer_conninfo()}, other{pgbouncer_conninfo()};
    one.query("BEGIN");
    other.query("BEGIN");
    std::vector<std::string> rows{one.scalar(probe), other.scalar(probe)};
    one.query("ROLLBACK");
    other.query("ROLLBACK");
    return rows;
}

} // namespace

TEST(pgbouncer, transaction_pooling_without_prepared_statements_works_and_leaves_nothing) {
    constexpr int threads = 8;
    constexpr int lives = 25;
    std::atomic<int> done{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; t++) {
        workers.emplace_back([&, t] {
            try {
                client sessions{pooled_options(false)};
                for (int i = 0; i < lives; i++) {
                    const std::string wrong =
                        session_life(sessions, unique("bouncer-" + std::to_string(t)));
                    if (wrong.empty())
                        done++;
                    else
                        ADD_FAILURE() << "thread " << t << ": wrong result of " << wrong;
                }
            } catch (const std::exception &e) {
                ADD_FAILURE() << "thread " << t << ": " << e.what();
            }
        });
    }
    for (std::thread &worker : workers)
        worker.join();
    EXPECT_EQ(done.load(), threads * lives);

    // Both server connections ran the calls; neither kept anything of the client's.
    const std::string server_default = admin{}.scalar("SHOW statement_timeout");
    std::set<std::string> pids;
    for (const std::string &row : server_connections()) {
        SCOPED_TRACE(row);
        pids.insert(row.substr(0, row.find(' ')));
        EXPECT_EQ(row.substr(row.find(" | ")), " | " + server_default + " | 0") << row;
    }
    EXPECT_EQ(pids.size(), 2u);
}

TEST(pgbouncer, prepared_statements_fail_behind_transaction_pooling) {
    // A pool of its own (another database name in PgBouncer's configuration), so that
    // what these clients leave behind never reaches the other test's server connections.
    const std::string info = pgbouncer_conninfo() + " dbname=pgsession_client_prepared";
    // Three clients preparing on two server connections: one finds its statements
    // already there.
    std::vector<std::unique_ptr<client>> clients;
    int refused = 0;
    for (int i = 0; i < 3; i++) {
        try {
            clients.push_back(std::make_unique<client>(pooled_options(true, info)));
        } catch (const pgsession::error &e) {
            refused++;
            EXPECT_EQ(e.sqlstate(), "42P05") << e.what();
            EXPECT_NE(e.hint().find("prepared_statements"), std::string::npos) << e.hint();
        }
    }
    EXPECT_GE(refused, 1);
    // And the same database through the same pooler works without.
    client unprepared{pooled_options(false, info)};
    EXPECT_TRUE(session_life(unprepared, unique("bouncer-after")).empty());
}
