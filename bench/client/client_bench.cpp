// Figure 6 driver: calls per second of the C++ client and of raw libpq.
//
//   pgsession-client-bench CONNINFO MODE SECONDS ACTIVE
//
// MODE is get (client::get), libpq (PQexecPrepared of the statement client::get
// prepares, the same values read out of the result), get_many (client::get_many of 100
// tokens) or get_seq (100 client::get calls in a row).  Tokens are the benchmark's
// 'benchtoken' || 33 digits, drawn from the first ACTIVE sessions.  Prints one number:
// calls per second for get and libpq, sessions per second for get_many and get_seq.
#include <pgsession/client.hpp>

#include "statements.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
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

} // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s CONNINFO get|libpq|get_many|get_seq SECONDS ACTIVE\n",
                     argv[0]);
        return 2;
    }
    const std::string conninfo = argv[1], mode = argv[2];
    const double seconds = std::atof(argv[3]);
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_int_distribution<long> pick(1, std::atol(argv[4]));
    constexpr int kBatch = 100;

    try {
        double rate = 0;
        if (mode == "libpq") {
            rate = raw_libpq(conninfo.c_str(), seconds, rng, pick);
        } else {
            pgsession::client sessions(conninfo);
            if (mode == "get") {
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
