// One libpq connection driven through the asynchronous API with deadlines (see the
// comment in connection.hpp for why).
#include "connection.hpp"
#include "statements.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>

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

params &params::text(std::string_view value, const char *name) {
    // libpq sends text parameters as C strings: a NUL byte would silently cut the value
    // short.  PostgreSQL text cannot hold NUL either; refuse as the server would.
    if (value.find('\0') != std::string_view::npos)
        throw bad_input("22021", std::string(name) + " contains a NUL byte",
                        "PostgreSQL text values cannot hold the character 0x00.");
    values_.emplace_back(std::string(value));
    return *this;
}

params &params::text(const std::optional<std::string> &value, const char *name) {
    if (!value) {
        values_.emplace_back();
        return *this;
    }
    return text(std::string_view(*value), name);
}

params &params::integer(std::optional<std::int64_t> value) {
    if (value)
        values_.emplace_back(std::to_string(*value));
    else
        values_.emplace_back();
    return *this;
}

std::vector<const char *> params::pointers() const {
    std::vector<const char *> pointers;
    pointers.reserve(values_.size());
    for (const auto &value : values_)
        pointers.push_back(value ? value->c_str() : nullptr);
    return pointers;
}

connection::connection(const std::string &conninfo, const std::string &schema,
                       std::chrono::milliseconds connect_timeout,
                       std::chrono::milliseconds call_timeout) {
    const auto deadline = steady_clock::now() + connect_timeout;
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
    prepare_all(schema.empty() ? find_schema(deadline) : schema, call_timeout, deadline);
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

void connection::prepare_all(const std::string &schema, std::chrono::milliseconds call_timeout,
                             steady_clock::time_point deadline) {
    std::unique_ptr<char, libpq_string_deleter> quoted(
        PQescapeIdentifier(conn_.get(), schema.data(), schema.size()));
    if (!quoted)
        raise("22023", "invalid schema name: " + last_error(conn_.get()));
    std::vector<std::string> sql;
    for (std::size_t i = 0; i < statement_count; i++)
        sql.push_back(statement_sql(static_cast<statement>(i), quoted.get()));
    // The server gives up on a statement when the client does, so that a call the
    // client abandoned (say, one waiting for a lock) does not take effect later.
    const std::string timeout_ms = std::to_string(call_timeout.count());
    const char *const timeout_value[] = {timeout_ms.c_str()};
    // All statements and the setting in one round trip.
    pipeline(
        statement_count + 1,
        [&](std::size_t i) {
            if (i == statement_count)
                return PQsendQueryParams(
                    conn_.get(), "SELECT pg_catalog.set_config('statement_timeout', $1, false)", 1,
                    nullptr, timeout_value, nullptr, nullptr, 0);
            return PQsendPrepare(conn_.get(), statement_name(static_cast<statement>(i)),
                                 sql[i].c_str(), 0, nullptr);
        },
        deadline);
}

result connection::run(statement which, const params &values, steady_clock::time_point deadline) {
    const std::vector<const char *> pointers = values.pointers();
    return run_one(
        [&] {
            return PQsendQueryPrepared(conn_.get(), statement_name(which), values.count(),
                                       pointers.data(), nullptr, nullptr, 0);
        },
        deadline);
}

std::vector<result> connection::run_batch(statement which, const std::vector<params> &batch,
                                          steady_clock::time_point deadline) {
    std::vector<std::vector<const char *>> pointers;
    pointers.reserve(batch.size());
    for (const params &values : batch)
        pointers.push_back(values.pointers());
    return pipeline(
        batch.size(),
        [&](std::size_t i) {
            return PQsendQueryPrepared(conn_.get(), statement_name(which), batch[i].count(),
                                       pointers[i].data(), nullptr, nullptr, 0);
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

std::vector<result> connection::pipeline(std::size_t count,
                                         const std::function<int(std::size_t)> &send,
                                         steady_clock::time_point deadline) {
    if (!PQenterPipelineMode(conn_.get()))
        lost("entering pipeline mode");
    for (std::size_t i = 0; i < count; i++) {
        if (!send(i))
            lost("sending a query");
    }
    if (!PQpipelineSync(conn_.get()))
        lost("sending a pipeline sync");
    flush(deadline);

    // Each query yields its result (PGRES_PIPELINE_ABORTED after an error) and a NULL;
    // the sync yields PGRES_PIPELINE_SYNC.  Read everything before checking, so that
    // an error leaves the connection idle.
    std::vector<result> results;
    results.reserve(count);
    for (std::size_t i = 0; i < count; i++) {
        results.push_back(next_result(deadline));
        if (!results.back() || next_result(deadline))
            lost("reading a pipeline result");
    }
    result sync = next_result(deadline);
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC ||
        !PQexitPipelineMode(conn_.get()))
        lost("ending a pipeline");
    for (const result &res : results) {
        if (PQresultStatus(res.get()) != PGRES_PIPELINE_ABORTED)
            check(res.get());
    }
    return results;
}

void connection::check(const PGresult *res) {
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        return;
    default:
        raise(error_field(res, PG_DIAG_SQLSTATE),
              error_field(res, PG_DIAG_MESSAGE_PRIMARY).empty()
                  ? last_error(conn_.get())
                  : error_field(res, PG_DIAG_MESSAGE_PRIMARY),
              error_field(res, PG_DIAG_MESSAGE_DETAIL), error_field(res, PG_DIAG_MESSAGE_HINT),
              PQstatus(conn_.get()) == CONNECTION_BAD);
    }
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

short connection::wait(short events, steady_clock::time_point deadline) {
    const int socket = PQsocket(conn_.get());
    if (socket < 0)
        lost("waiting for the server");
    for (;;) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - steady_clock::now());
        if (left.count() <= 0)
            break;
        pollfd fd{socket, events, 0};
        const int ready = poll(&fd, 1, static_cast<int>(left.count()));
        if (ready > 0)
            return fd.revents;
        if (ready < 0 && errno != EINTR)
            raise("08006", std::string("poll failed: ") + std::strerror(errno), {}, {}, true);
    }
    throw timeout_error("57014", "the server did not answer in time",
                        "The connection was closed; the next call connects again.");
}

void connection::lost(const char *doing) {
    raise("08006", std::string("connection lost while ") + doing + ": " + last_error(conn_.get()),
          {}, {}, true);
}

} // namespace pgsession::detail
