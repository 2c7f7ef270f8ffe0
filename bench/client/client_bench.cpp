// Figure 6 driver: calls per second of the C++ client and of raw libpq.
//
//   pgsession-client-bench CONNINFO MODE SECONDS ACTIVE
//
// MODE is get (client::get with prepared statements), libpq (PQexecPrepared of the
// statement client::get prepares, the same values read out of the result), get_many
// (client::get_many of 100 tokens) or get_seq (100 client::get calls in a row), the last
// two with the client's default options.  Tokens are the benchmark's 'benchtoken' || 33
// digits, drawn from the first ACTIVE sessions.  Prints one number: calls per second for
// get and libpq, sessions per second for get_many and get_seq.
//
// Mode get_standby is get through a client that reads from the hot standby named by
// PGSESSION_BENCH_STANDBY (client_options::standbys), to compare with get on the primary.
//
//   pgsession-client-bench CONNINFO lag SECONDS STANDBY_CONNINFO
//
// The revocation window as an application sees it: for SECONDS, creates a session on
// the primary, waits until the standby has it, removes it on the primary and times how
// long the standby still returns it (polled back to back over one connection).  Run it
// beside a write load.  Prints the count, median, 99th percentile and maximum, in ms.
//
//   pgsession-client-bench CONNINFO statements SECONDS ROUNDS
//
// Prepared against unprepared statements (client_options::prepared_statements), run
// beside each other: ROUNDS rounds of SECONDS per side and operation, the order of the
// sides alternating from round to round, on sessions the run creates itself.  Also the
// cost of bounding an unprepared call's time on the server: raw libpq running the get
// statement unnamed, alone and after a pipelined set_config('statement_timeout', ...,
// true).  Prints one line per comparison: the medians of both sides (calls per second)
// and the median of the rounds' ratios.
#include <pgsession/client.hpp>

#include "statements.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using bench_clock = std::chrono::steady_clock;

/// The benchmark token of session number `i`.
std::string token(long i) {
    std::string digits = std::to_string(i);
    return "benchtoken" + std::string(33 - digits.size(), '0') + digits;
}

/// Runs `batch` until `seconds` have passed; returns how many units it did per second.
template <class Batch> double per_second(double seconds, Batch &&batch) {
    auto start = bench_clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
    long units = 0;
    while (bench_clock::now() < until)
        units += batch();
    return units / std::chrono::duration<double>(bench_clock::now() - start).count();
}

/// Fails the run with libpq's message.
[[noreturn]] void fail(const char *what, PGconn *conn) {
    std::fprintf(stderr, "%s: %s", what, PQerrorMessage(conn));
    std::exit(1);
}

/// The raw libpq baseline: the same prepared statement, its values copied into strings
/// as client::get copies them.
double raw_libpq(const char *conninfo, double seconds, std::mt19937_64 &rng,
                 std::uniform_int_distribution<long> &pick) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        fail("connect", conn.get());
    std::string sql =
        pgsession::detail::statement_sql(pgsession::detail::statement::get, "\"public\"");
    std::unique_ptr<PGresult, decltype(&PQclear)> prepared(
        PQprepare(conn.get(), "get", sql.c_str(), 1, nullptr), &PQclear);
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK)
        fail("prepare", conn.get());
    long found = 0;
    double rate = per_second(seconds, [&] {
        std::string t = token(pick(rng));
        const char *values[1] = {t.c_str()};
        std::unique_ptr<PGresult, decltype(&PQclear)> res(
            PQexecPrepared(conn.get(), "get", 1, values, nullptr, nullptr, 0), &PQclear);
        if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
            fail("get", conn.get());
        std::vector<std::optional<std::string>> row;
        for (int row_no = 0; row_no < PQntuples(res.get()); row_no++, found++)
            for (int col = 0; col < PQnfields(res.get()); col++)
                row.emplace_back(
                    PQgetisnull(res.get(), row_no, col)
                        ? std::nullopt
                        : std::optional<std::string>(PQgetvalue(res.get(), row_no, col)));
        return 1;
    });
    if (found == 0)
        std::fprintf(stderr, "no session found: is the benchmark data loaded?\n");
    return rate;
}

/// A client with or without prepared statements.
pgsession::client client_for(const std::string &conninfo, bool prepared) {
    pgsession::client_options options;
    options.conninfo = conninfo;
    options.prepared_statements = prepared;
    return pgsession::client(options);
}

/// The median of some numbers.
double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// Runs `a` and `b` for `rounds` rounds, alternating which goes first, and prints the
/// medians of both and of the ratios a / b.
template <class A, class B> void compare(const char *name, int rounds, A &&a, B &&b) {
    std::vector<double> as, bs, ratios;
    for (int round = 0; round < rounds; round++) {
        double rate_a = 0, rate_b = 0;
        if (round % 2) {
            rate_b = b();
            rate_a = a();
        } else {
            rate_a = a();
            rate_b = b();
        }
        as.push_back(rate_a);
        bs.push_back(rate_b);
        ratios.push_back(rate_a / rate_b);
    }
    std::printf("%-44s %10.1f %10.1f %7.3f\n", name, median(as), median(bs), median(ratios));
    std::fflush(stdout);
}

/// Connects with libpq or fails the run.
std::unique_ptr<PGconn, decltype(&PQfinish)> libpq_connect(const std::string &conninfo) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        fail("connect", conn.get());
    return conn;
}

/// One unnamed get through raw libpq, after a pipelined transaction-local
/// statement_timeout when `bounded` (as the client does without prepared statements).
void unnamed_get(PGconn *conn, const std::string &sql, const std::string &token, bool bounded) {
    const char *values[1] = {token.c_str()};
    if (!bounded) {
        std::unique_ptr<PGresult, decltype(&PQclear)> res(
            PQexecParams(conn, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 0), &PQclear);
        if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
            fail("get", conn);
        return;
    }
    const char *timeout[1] = {"30000"};
    if (!PQenterPipelineMode(conn) ||
        !PQsendQueryParams(conn, "SELECT pg_catalog.set_config('statement_timeout', $1, true)", 1,
                           nullptr, timeout, nullptr, nullptr, 0) ||
        !PQsendQueryParams(conn, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 0) ||
        !PQpipelineSync(conn))
        fail("pipeline", conn);
    for (int query = 0; query < 2; query++) {
        std::unique_ptr<PGresult, decltype(&PQclear)> res(PQgetResult(conn), &PQclear);
        if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
            fail("get", conn);
        while (PGresult *more = PQgetResult(conn))
            PQclear(more);
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> sync(PQgetResult(conn), &PQclear);
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(conn))
        fail("sync", conn);
}

/// The statements mode (see the top of the file).
int statements(const std::string &conninfo, double seconds, int rounds, std::mt19937_64 &rng) {
    pgsession::client prepared = client_for(conninfo, true);
    pgsession::client unprepared = client_for(conninfo, false);
    std::vector<std::string> tokens;
    auto creating = [&](pgsession::client &sessions) {
        return [&] {
            return per_second(seconds, [&] {
                pgsession::create_options options;
                options.sub = "bench-user";
                options.access_token = std::string(200, 'a');
                tokens.push_back(sessions.create(options));
                return 1;
            });
        };
    };
    std::printf("%-44s %10s %10s %7s\n", "calls/s", "A", "B", "A/B");
    compare("create: prepared (A) / unprepared (B)", rounds, creating(prepared),
            creating(unprepared));

    std::uniform_int_distribution<std::size_t> pick(0, tokens.size() - 1);
    auto getting = [&](pgsession::client &sessions) {
        return [&] {
            return per_second(seconds, [&] {
                if (!sessions.get(tokens[pick(rng)]))
                    throw std::runtime_error("a created session was not found");
                return 1;
            });
        };
    };
    compare("get: prepared (A) / unprepared (B)", rounds, getting(prepared), getting(unprepared));

    auto conn = libpq_connect(conninfo);
    const std::string sql =
        pgsession::detail::statement_sql(pgsession::detail::statement::get, "\"public\"");
    auto raw = [&](bool bounded) {
        return [&, bounded] {
            return per_second(seconds, [&] {
                unnamed_get(conn.get(), sql, tokens[pick(rng)], bounded);
                return 1;
            });
        };
    };
    compare("libpq unnamed get: bounded (A) / alone (B)", rounds, raw(true), raw(false));
    return 0;
}

/// Whether the server behind `conn` returns the session `token` (raw libpq, unnamed).
bool standby_has(PGconn *conn, const std::string &token) {
    const char *values[1] = {token.c_str()};
    std::unique_ptr<PGresult, decltype(&PQclear)> res(
        PQexecParams(conn, "SELECT 1 FROM public.session_get($1)", 1, nullptr, values, nullptr,
                     nullptr, 0),
        &PQclear);
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        fail("session_get on the standby", conn);
    return PQntuples(res.get()) > 0;
}

/// The lag mode (see the top of the file).
int lag(const std::string &conninfo, double seconds, const std::string &standby_conninfo) {
    pgsession::client primary = client_for(conninfo, true);
    auto standby = libpq_connect(standby_conninfo);
    std::vector<double> windows;
    const auto until = bench_clock::now() + std::chrono::duration<double>(seconds);
    while (bench_clock::now() < until) {
        // Each wait is bounded: a standby that stops replaying fails the run.
        auto await = [&](bool present, const std::string &token) {
            const auto give_up = bench_clock::now() + std::chrono::seconds(30);
            while (standby_has(standby.get(), token) != present) {
                if (bench_clock::now() > give_up)
                    throw std::runtime_error("the standby did not replay within 30 s");
            }
        };
        const std::string token = primary.create();
        await(true, token);
        primary.remove(token);
        const auto removed = bench_clock::now();
        await(false, token);
        windows.push_back(
            std::chrono::duration<double, std::milli>(bench_clock::now() - removed).count());
    }
    std::sort(windows.begin(), windows.end());
    const std::size_t n = windows.size();
    std::printf("%zu %.3f %.3f %.3f\n", n, median(windows),
                windows[std::min(n - 1, static_cast<std::size_t>(0.99 * n))], windows.back());
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr,
                     "usage: %s CONNINFO get|get_standby|libpq|get_many|get_seq SECONDS ACTIVE\n"
                     "       %s CONNINFO lag SECONDS STANDBY_CONNINFO\n"
                     "       %s CONNINFO statements SECONDS ROUNDS\n",
                     argv[0], argv[0], argv[0]);
        return 2;
    }
    const std::string conninfo = argv[1], mode = argv[2];
    const double seconds = std::atof(argv[3]);
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_int_distribution<long> pick(1, std::atol(argv[4]));
    constexpr int kBatch = 100;

    try {
        double rate = 0;
        if (mode == "statements") {
            return statements(conninfo, seconds, std::atoi(argv[4]), rng);
        } else if (mode == "lag") {
            return lag(conninfo, seconds, argv[4]);
        } else if (mode == "libpq") {
            rate = raw_libpq(conninfo.c_str(), seconds, rng, pick);
        } else {
            pgsession::client_options options;
            options.conninfo = conninfo;
            if (mode == "get")
                options.prepared_statements = true; // the statement the baseline prepares
            if (mode == "get_standby") {
                const char *standby = std::getenv("PGSESSION_BENCH_STANDBY");
                if (!standby || !*standby) {
                    std::fprintf(stderr, "get_standby: PGSESSION_BENCH_STANDBY is not set\n");
                    return 2;
                }
                options.standbys = {standby};
            }
            pgsession::client sessions(options);
            if (mode == "get" || mode == "get_standby") {
                rate = per_second(seconds, [&] {
                    (void)sessions.get(token(pick(rng)));
                    return 1;
                });
            } else if (mode == "get_many") {
                rate = per_second(seconds, [&] {
                    std::vector<std::string> tokens;
                    for (int i = 0; i < kBatch; i++)
                        tokens.push_back(token(pick(rng)));
                    return static_cast<int>(sessions.get_many(tokens).size());
                });
            } else if (mode == "get_seq") {
                rate = per_second(seconds, [&] {
                    int done = 0;
                    for (int i = 0; i < kBatch; i++, done++)
                        (void)sessions.get(token(pick(rng)));
                    return done;
                });
            } else {
                std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
                return 2;
            }
        }
        std::printf("%.1f\n", rate);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: %s\n", mode.c_str(), e.what());
        return 1;
    }
    return 0;
}
