// One libpq connection driven through the asynchronous API with deadlines (see the
// comment in connection.hpp for why).
#include "connection.hpp"
#include "raise.hpp"

#include <pgsession/error.hpp>

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pgsession::detail {
namespace {

// libpq's last error message without its trailing newline.
std::string last_error(const PGconn *conn) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    return message.empty() ? "unknown libpq error" : message;
}

// A field of a result's error, empty when absent.
std::string error_field(const PGresult *res, int code) {
    const char *value = PQresultErrorField(res, code);
    return value ? value : "";
}

// An owned string from libpq's allocator.
struct libpq_string_deleter {
    void operator()(char *text) const noexcept {
        PQfreemem(text);
    }
};

} // namespace

connection::connection(const std::string &conninfo, const std::string &schema,
                       std::chrono::milliseconds connect_timeout,
                       std::chrono::milliseconds call_timeout, bool prepared)
    : connection(conninfo, connect_timeout) {
    // What is left of the connect timeout bounds the set-up.
    const auto deadline = connect_started_ + connect_timeout;
    prepared_ = prepared;
    timeout_ms_ = std::to_string(call_timeout.count());
    const std::string quoted =
        quote_identifier(schema.empty() ? find_schema(deadline) : schema, "schema");
    for (std::size_t i = 0; i < statement_count; i++)
        sql_.push_back(statement_sql(static_cast<statement>(i), quoted));
    if (prepared_)
        prepare_all(deadline);
    else if (!schema.empty())
        check_schema(deadline);
}

connection::connection(const std::string &conninfo, std::chrono::milliseconds connect_timeout)
    : connect_started_(steady_clock::now()) {
    const auto deadline = connect_started_ + connect_timeout;
    // The string is expanded in place of dbname; the keywords after it override what
    // it says, so the client always talks UTF-8.
    const char *const keywords[] = {"dbname", "client_encoding", "fallback_application_name",
                                    nullptr};
    const char *const values[] = {conninfo.c_str(), "UTF8", "pgsession-client", nullptr};
    conn_.reset(PQconnectStartParams(keywords, values, 1));
    if (!conn_ || PQstatus(conn_.get()) == CONNECTION_BAD)
        raise("08001", "could not connect: " + last_error(conn_.get()));

    // The PQconnectPoll loop: wait for what libpq asks for, on whatever socket it uses
    // now (it changes when libpq moves on to the next host or address).
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;
    while (status != PGRES_POLLING_OK) {
        if (status == PGRES_POLLING_FAILED)
            raise("08001", "could not connect: " + last_error(conn_.get()));
        try {
            wait(status == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        } catch (const timeout_error &) {
            throw timeout_error("08001", "could not connect within " +
                                             std::to_string(connect_timeout.count()) + " ms");
        }
        status = PQconnectPoll(conn_.get());
    }
    if (PQsetnonblocking(conn_.get(), 1) != 0)
        lost("switching to non-blocking mode");
}

std::string connection::quote_identifier(const std::string &name, const char *what) const {
    std::unique_ptr<char, libpq_string_deleter> quoted(
        PQescapeIdentifier(conn_.get(), name.data(), name.size()));
    if (!quoted)
        raise("22023", std::string("invalid ") + what + " name: " + last_error(conn_.get()));
    return quoted.get();
}

void connection::execute(const std::string &sql, steady_clock::time_point deadline) {
    run_one(
        [&] {
            return PQsendQueryParams(conn_.get(), sql.c_str(), 0, nullptr, nullptr, nullptr,
                                     nullptr, 0);
        },
        deadline);
}

void connection::check_schema(steady_clock::time_point deadline) {
    // A named schema must hold the functions, as preparing would have shown: parse one
    // call as the unnamed statement (executing nothing; the next call replaces it).
    const std::string &sql = sql_[static_cast<std::size_t>(statement::get)];
    run_one([&] { return PQsendPrepare(conn_.get(), "", sql.c_str(), 0, nullptr); }, deadline);
}

bool connection::usable() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK &&
           PQtransactionStatus(conn_.get()) == PQTRANS_IDLE &&
           PQpipelineStatus(conn_.get()) == PQ_PIPELINE_OFF;
}

std::string connection::find_schema(steady_clock::time_point deadline) {
    result res = run_one(
        [this] {
            return PQsendQueryParams(conn_.get(),
                                     "SELECT n.nspname FROM pg_catalog.pg_extension e"
                                     " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
                                     " WHERE e.extname = 'pgsession'",
                                     0, nullptr, nullptr, nullptr, nullptr, 0);
        },
        deadline);
    if (PQntuples(res.get()) != 1)
        raise("42704", "the pgsession extension is not installed in this database", {},
              "Run CREATE EXTENSION pgsession, or name the schema in client_options::schema.");
    return PQgetvalue(res.get(), 0, 0);
}

void connection::prepare_all(steady_clock::time_point deadline) {
    // The server gives up on a statement when the client does, so that a call the
    // client abandoned (say, one waiting for a lock) does not take effect later.
    const char *const timeout_value[] = {timeout_ms_.c_str()};
    // All statements and the setting in one round trip, in one transaction: either
    // the connection is fully set up or the constructor throws.
    std::vector<outcome> done = pipeline(
        1, statement_count + 1,
        [&](std::size_t, std::size_t i) {
            if (i == statement_count)
                return PQsendQueryParams(
                    conn_.get(), "SELECT pg_catalog.set_config('statement_timeout', $1, false)", 1,
                    nullptr, timeout_value, nullptr, nullptr, 0);
            return PQsendPrepare(conn_.get(), statement_name(static_cast<statement>(i)),
                                 sql_[i].c_str(), 0, nullptr);
        },
        deadline);
    if (done[0].failure)
        std::rethrow_exception(done[0].failure);
}

// Without prepared statements, the call's time on the server is bounded by a
// transaction-local statement_timeout, set by a statement pipelined just before the
// call in the same implicit transaction (one round trip, no Sync between them): the
// server resets it when the transaction ends, so a pooler's next client never sees it.
// The alternatives: a client-side cancel (PQcancel) needs a new connection to the
// server (or the pooler) and an answer, which a stopped or unreachable server never
// gives, and it cannot stop a call whose connection was already closed; leaving the
// server unbounded would let a call the client gave up on (say, one waiting for a lock)
// take effect later.  The extra statement costs little: see bench/client/prepared.sh.
int connection::send_local_timeout() {
    const char *const timeout_value[] = {timeout_ms_.c_str()};
    return PQsendQueryParams(conn_.get(),
                             "SELECT pg_catalog.set_config('statement_timeout', $1, true)", 1,
                             nullptr, timeout_value, nullptr, nullptr, 0);
}

int connection::send(statement which, const params &values,
                     const std::vector<const char *> &pointers) {
    const auto index = static_cast<std::size_t>(which);
    if (prepared_)
        return PQsendQueryPrepared(conn_.get(), statement_name(which), values.count(),
                                   pointers.data(), nullptr, nullptr, 0);
    return PQsendQueryParams(conn_.get(), sql_[index].c_str(), values.count(), nullptr,
                             pointers.data(), nullptr, nullptr, 0);
}

result connection::run(statement which, const params &values, steady_clock::time_point deadline) {
    const std::vector<const char *> pointers = values.pointers();
    if (prepared_)
        return run_one([&] { return send(which, values, pointers); }, deadline);
    std::vector<outcome> done = pipeline(
        1, 2,
        [&](std::size_t, std::size_t i) {
            return i == 0 ? send_local_timeout() : send(which, values, pointers);
        },
        deadline);
    if (done[0].failure)
        std::rethrow_exception(done[0].failure);
    return std::move(done[0].rows);
}

std::vector<connection::outcome> connection::run_batch(statement which,
                                                       const std::vector<params> &batch,
                                                       steady_clock::time_point deadline) {
    std::vector<std::vector<const char *>> pointers;
    pointers.reserve(batch.size());
    for (const params &values : batch)
        pointers.push_back(values.pointers());
    // Prepared: the statement alone in each transaction; otherwise after its
    // transaction-local statement_timeout.
    const std::size_t statements = prepared_ ? 1 : 2;
    return pipeline(
        batch.size(), statements,
        [&](std::size_t t, std::size_t i) {
            return i + 1 < statements ? send_local_timeout() : send(which, batch[t], pointers[t]);
        },
        deadline);
}

result connection::run_one(const std::function<int()> &send, steady_clock::time_point deadline) {
    if (!send())
        lost("sending a query");
    flush(deadline);
    // One statement yields one result, then NULL; keep the first.
    result first = next_result(deadline);
    while (result more = next_result(deadline)) {
    }
    if (!first)
        lost("reading a result");
    check(first.get());
    return first;
}

std::vector<connection::outcome>
connection::pipeline(std::size_t transactions, std::size_t statements,
                     const std::function<int(std::size_t, std::size_t)> &send,
                     steady_clock::time_point deadline) {
    if (!PQenterPipelineMode(conn_.get()))
        lost("entering pipeline mode");
    for (std::size_t t = 0; t < transactions; t++) {
        for (std::size_t i = 0; i < statements; i++) {
            if (!send(t, i))
                lost("sending a query");
        }
        if (!PQpipelineSync(conn_.get()))
            lost("sending a pipeline sync");
    }
    flush(deadline);

    // Each query yields its result (PGRES_PIPELINE_ABORTED after an error in its
    // transaction) and a NULL; each sync yields PGRES_PIPELINE_SYNC.  Read everything
    // before reporting, so that an error leaves the connection idle.  A transaction's
    // outcome is its first error, or else its last statement's result.
    std::vector<outcome> outcomes(transactions);
    for (outcome &done : outcomes) {
        for (std::size_t i = 0; i < statements; i++) {
            result res = next_result(deadline);
            if (!res || next_result(deadline))
                lost("reading a pipeline result");
            if (done.failure || PQresultStatus(res.get()) == PGRES_PIPELINE_ABORTED)
                continue;
            try {
                check(res.get());
                if (i + 1 == statements)
                    done.rows = std::move(res);
            } catch (const error &) {
                done.failure = std::current_exception();
            }
        }
        result sync = next_result(deadline);
        if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC)
            lost("ending a pipeline transaction");
        if (!done.failure && !done.rows)
            done.failure = std::make_exception_ptr(
                error("XX000", "a pipelined statement was aborted without an error"));
    }
    if (!PQexitPipelineMode(conn_.get()))
        lost("ending a pipeline");
    return outcomes;
}

void connection::check(const PGresult *res) {
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        return;
    default:
        break;
    }
    const std::string sqlstate = error_field(res, PG_DIAG_SQLSTATE);
    std::string hint = error_field(res, PG_DIAG_MESSAGE_HINT);
    // Prepared statements that already exist, or no longer do, on a connection that
    // made them: the server connection is shared, as behind a transaction-mode pooler.
    if (prepared_ && hint.empty() && (sqlstate == "42P05" || sqlstate == "26000"))
        hint = "Behind a pooler in transaction mode, set client_options::prepared_statements "
               "to false.";
    const std::string message = error_field(res, PG_DIAG_MESSAGE_PRIMARY);
    // One of our calls matches no function: the server's hint (add casts) misleads; the
    // schema holds an older extension (the client calls 0.2.0's signatures) or none.
    if (sqlstate == "42883" && message.find(".session_") != std::string::npos)
        hint = "The client calls the functions of pgsession 0.2.0: check that the extension is "
               "in this schema and up to date (ALTER EXTENSION pgsession UPDATE).";
    raise(sqlstate, message.empty() ? last_error(conn_.get()) : message,
          error_field(res, PG_DIAG_MESSAGE_DETAIL), std::move(hint),
          PQstatus(conn_.get()) == CONNECTION_BAD);
}

void connection::flush(steady_clock::time_point deadline) {
    // As libpq's documentation asks of a non-blocking connection: while output is
    // pending, wait for the socket to be writable or readable, and read what the
    // server sent meanwhile so that neither side blocks the other.
    for (;;) {
        const int pending = PQflush(conn_.get());
        if (pending == 0)
            return;
        if (pending < 0)
            lost("sending to the server");
        if ((wait(POLLIN | POLLOUT, deadline) & POLLIN) && !PQconsumeInput(conn_.get()))
            lost("reading from the server");
    }
}

result connection::next_result(steady_clock::time_point deadline) {
    while (PQisBusy(conn_.get())) {
        wait(POLLIN, deadline);
        if (!PQconsumeInput(conn_.get()))
            lost("reading from the server");
    }
    return result(PQgetResult(conn_.get()));
}

short connection::wait_for(short events, steady_clock::time_point deadline) {
    const int socket = PQsocket(conn_.get());
    if (socket < 0)
        lost("waiting for the server");
    for (;;) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - steady_clock::now());
        if (left.count() <= 0)
            return 0;
        pollfd fd{socket, events, 0};
        const int ready = poll(&fd, 1, static_cast<int>(left.count()));
        if (ready > 0)
            return fd.revents;
        if (ready < 0 && errno != EINTR)
            raise("08006", std::string("poll failed: ") + std::strerror(errno), {}, {}, true);
    }
}

short connection::wait(short events, steady_clock::time_point deadline) {
    if (const short ready = wait_for(events, deadline))
        return ready;
    throw timeout_error("57014", "the server did not answer in time",
                        "The connection was closed; the next call connects again.");
}

void connection::lost(const char *doing) {
    raise("08006", std::string("connection lost while ") + doing + ": " + last_error(conn_.get()),
          {}, {}, true);
}

} // namespace pgsession::detail
