// Internal: one libpq connection, owned by RAII handles, driven through libpq's
// asynchronous API so that no wait outlasts a deadline.
//
// Why asynchronous: PQexec and friends block in recv() for as long as the server takes.
// A server that is stopped (SIGSTOP), partitioned away or stuck on a lock would hang the
// caller for good; TCP keepalives do not help while the peer's kernel still answers.
// Here every wait is a poll() on PQsocket() bounded by the call's deadline, and a
// deadline that passes throws timeout_error; the owner then drops the connection,
// because its protocol state is unknown.  (PQcancel is not used: it connects to the
// server and waits for it, which is exactly what a stopped server never answers.)
#pragma once

#include "statements.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsession::detail {

using steady_clock = std::chrono::steady_clock;

/// Closes a PGconn.
struct conn_deleter {
    void operator()(PGconn *conn) const noexcept {
        PQfinish(conn);
    }
};

/// Frees a PGresult.
struct result_deleter {
    void operator()(PGresult *result) const noexcept {
        PQclear(result);
    }
};

/// An owned PGresult.
using result = std::unique_ptr<PGresult, result_deleter>;

/// A connection, and the statements run on it.
///
/// With `prepared`, the statements are prepared once when connecting (named
/// pgsession_create, ...) and statement_timeout is set for the session: the fastest
/// way, but it leaves state on the server connection, which a pooler in transaction
/// mode hands to other clients.  Without, each call is an unnamed statement
/// (PQsendQueryParams) preceded, in the same implicit transaction, by
/// set_config('statement_timeout', ..., true): nothing outlives the call's transaction.
class connection {
  public:
    /// Connects within `connect_timeout` and finds the extension's schema (unless
    /// given); with `prepared`, also prepares the statements and sets statement_timeout
    /// to `call_timeout`.  Throws connection_error, or error when the database has no
    /// pgsession extension.
    connection(const std::string &conninfo, const std::string &schema,
               std::chrono::milliseconds connect_timeout, std::chrono::milliseconds call_timeout,
               bool prepared);
    /// Connects within `connect_timeout` and does nothing else: no schema, no statements
    /// (a subscription's connection, which only runs execute()).  Throws
    /// connection_error.
    connection(const std::string &conninfo, std::chrono::milliseconds connect_timeout);

    /// Runs a statement; the result has status PGRES_TUPLES_OK.
    result run(statement which, const params &values, steady_clock::time_point deadline);

    /// One statement's outcome in a batch: its result, or the error it raised.
    struct outcome {
        /// The result (PGRES_TUPLES_OK); empty when the statement failed.
        result rows;
        /// The failure, when the statement failed.
        std::exception_ptr failure;
    };

    /// Runs a statement once per set of values, in one pipeline (one round trip), each
    /// in a transaction of its own (a Sync after each): no statement's row locks are
    /// held while the next runs, and one statement's failure aborts no other.  The
    /// outcomes are in order.  Throws only when the connection fails (then the results
    /// are lost); the connection is idle afterwards otherwise.
    std::vector<outcome> run_batch(statement which, const std::vector<params> &batch,
                                   steady_clock::time_point deadline);

    /// Runs one SQL command without parameters (e.g. LISTEN) by the deadline.
    void execute(const std::string &sql, steady_clock::time_point deadline);

    /// `name` quoted as an SQL identifier by libpq (PQescapeIdentifier, in the
    /// connection's encoding); throws bad_input (22023) "invalid <what> name" when libpq
    /// refuses it.
    std::string quote_identifier(const std::string &name, const char *what) const;

    /// Waits until the socket is ready for one of `events` (POLLIN, POLLOUT); what it is
    /// ready for, or 0 once the deadline has passed.  Throws connection_error when the
    /// connection has no socket or poll() fails.
    short wait_for(short events, steady_clock::time_point deadline);

    /// The libpq connection, for what this class does not wrap (PQnotifies,
    /// PQconsumeInput).
    PGconn *native() const noexcept {
        return conn_.get();
    }

    /// Whether the connection is up and idle: not broken, not inside a call.
    bool usable() const noexcept;

  private:
    void prepare_all(steady_clock::time_point deadline);
    std::string find_schema(steady_clock::time_point deadline);
    void check_schema(steady_clock::time_point deadline);
    std::vector<outcome> pipeline(std::size_t transactions, std::size_t statements,
                                  const std::function<int(std::size_t, std::size_t)> &send,
                                  steady_clock::time_point deadline);
    int send(statement which, const params &values, const std::vector<const char *> &pointers);
    int send_local_timeout();
    result run_one(const std::function<int()> &send, steady_clock::time_point deadline);
    void flush(steady_clock::time_point deadline);
    result next_result(steady_clock::time_point deadline);
    short wait(short events, steady_clock::time_point deadline);
    [[noreturn]] void lost(const char *doing);
    void check(const PGresult *res);

    // When connecting began: the connect timeout counts from here.
    steady_clock::time_point connect_started_;
    bool prepared_ = false;
    std::string timeout_ms_;
    std::vector<std::string> sql_;
    std::unique_ptr<PGconn, conn_deleter> conn_;
};

} // namespace pgsession::detail
