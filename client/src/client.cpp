// pgsession::client: the SQL API's calls, their parameters and their results.
#include <pgsession/client.hpp>

#include "connection.hpp"

#include <charconv>
#include <utility>

namespace pgsession {
namespace {

using detail::params;
using detail::result;
using detail::statement;

// The name update_options::clear passes to session_update for a field.
const char *field_name(field which) {
    switch (which) {
    case field::nonce:
        return "nonce";
    case field::state:
        return "state";
    case field::access_token:
        return "access_token";
    case field::code_verifier:
        return "code_verifier";
    case field::sub:
        return "sub";
    case field::data:
        return "data";
    }
    return "";
}

// A duration as whole microseconds, empty when empty.
std::optional<std::int64_t> micros(const std::optional<std::chrono::microseconds> &span) {
    if (!span)
        return std::nullopt;
    return span->count();
}

// A text cell, empty when NULL.
std::optional<std::string> text_cell(const PGresult *res, int row, int column) {
    if (PQgetisnull(res, row, column))
        return std::nullopt;
    return std::string(PQgetvalue(res, row, column),
                       static_cast<std::size_t>(PQgetlength(res, row, column)));
}

// An int8 cell, empty when NULL.
std::optional<std::int64_t> integer_cell(const PGresult *res, int row, int column) {
    if (PQgetisnull(res, row, column))
        return std::nullopt;
    const char *begin = PQgetvalue(res, row, column);
    const char *end = begin + PQgetlength(res, row, column);
    std::int64_t value = 0;
    auto [stop, code] = std::from_chars(begin, end, value);
    if (code != std::errc{} || stop != end)
        throw error("XX000", "unexpected integer from the server: " + std::string(begin, end));
    return value;
}

// A boolean cell ("t" or "f").
bool bool_cell(const PGresult *res, int row, int column) {
    return !PQgetisnull(res, row, column) && PQgetvalue(res, row, column)[0] == 't';
}

// A timestamp cell (microseconds since the Unix epoch), empty when NULL.
std::optional<time_point> time_cell(const PGresult *res, int row, int column) {
    std::optional<std::int64_t> us = integer_cell(res, row, column);
    if (!us)
        return std::nullopt;
    return time_point(
        std::chrono::duration_cast<time_point::duration>(std::chrono::microseconds(*us)));
}

// The session in a session_get result, empty when there is no row.
std::optional<session> session_of(const PGresult *res) {
    if (PQntuples(res) == 0)
        return std::nullopt;
    session s;
    s.nonce = text_cell(res, 0, 0);
    s.state = text_cell(res, 0, 1);
    s.access_token = text_cell(res, 0, 2);
    s.code_verifier = text_cell(res, 0, 3);
    s.sub = text_cell(res, 0, 4);
    s.data = text_cell(res, 0, 5);
    s.created_at = time_cell(res, 0, 6).value_or(time_point{});
    s.expires_at = time_cell(res, 0, 7).value_or(time_point{});
    s.last_accessed_at = time_cell(res, 0, 8).value_or(time_point{});
    s.absolute_expires_at = time_cell(res, 0, 9);
    return s;
}

// Parameters naming one session.
params token_params(std::string_view token) {
    params values;
    values.text(token, "token");
    return values;
}

// Parameters naming each of many sessions.
std::vector<params> token_batch(const std::vector<std::string> &tokens) {
    std::vector<params> batch;
    batch.reserve(tokens.size());
    for (const std::string &token : tokens)
        batch.push_back(token_params(token));
    return batch;
}

} // namespace

client::client(std::string conninfo) : client(client_options{std::move(conninfo)}) {}

client::client(client_options options) : options_(std::move(options)) {
    connection();
}

client::~client() = default;
client::client(client &&) noexcept = default;
client &client::operator=(client &&) noexcept = default;

bool client::connected() const noexcept {
    return connection_ != nullptr;
}

detail::connection &client::connection() {
    if (!connection_)
        connection_ = std::make_unique<detail::connection>(
            options_.conninfo, options_.schema, options_.connect_timeout, options_.call_timeout,
            options_.prepared_statements);
    return *connection_;
}

// Runs a call on the connection (connecting first when there is none).  Whatever the
// call throws, a connection left broken or in the middle of a call is dropped, so the
// next call starts over on a new one.
template <class Call> auto client::guarded(Call &&call) {
    detail::connection &conn = connection();
    const auto deadline = detail::steady_clock::now() + options_.call_timeout;
    try {
        return call(conn, deadline);
    } catch (...) {
        if (!conn.usable())
            connection_.reset();
        throw;
    }
}

std::string client::create(const create_options &options) {
    params values;
    values.text(options.id, "id")
        .text(options.nonce, "nonce")
        .text(options.state, "state")
        .text(options.code_verifier, "code_verifier")
        .text(options.access_token, "access_token")
        .text(options.sub, "sub")
        .text(options.data, "data")
        .integer(micros(options.idle_timeout))
        .integer(micros(options.absolute_timeout));
    return guarded([&](detail::connection &conn, auto deadline) {
        result res = conn.run(statement::create, values, deadline);
        return text_cell(res.get(), 0, 0).value_or("");
    });
}

time_point client::save(std::string_view id, const save_options &options) {
    params values;
    values.text(id, "id")
        .text(options.data, "data")
        .text(options.sub, "sub")
        .integer(micros(options.idle_timeout))
        .integer(micros(options.absolute_timeout))
        .text(options.nonce, "nonce")
        .text(options.state, "state")
        .text(options.code_verifier, "code_verifier")
        .text(options.access_token, "access_token");
    return guarded([&](detail::connection &conn, auto deadline) {
        return time_cell(conn.run(statement::save, values, deadline).get(), 0, 0)
            .value_or(time_point{});
    });
}

std::optional<session> client::get(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return session_of(conn.run(statement::get, values, deadline).get());
    });
}

std::optional<time_point> client::touch(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return time_cell(conn.run(statement::touch, values, deadline).get(), 0, 0);
    });
}

bool client::update(std::string_view token, const update_options &options) {
    params values = token_params(token);
    values.text(options.nonce, "nonce")
        .text(options.state, "state")
        .text(options.code_verifier, "code_verifier")
        .text(options.access_token, "access_token")
        .text(options.sub, "sub")
        .text(options.data, "data");
    // A text[] literal of fixed names: nothing of the caller's goes into it.
    std::optional<std::string> clear;
    for (field which : options.clear)
        clear = (clear ? *clear + "," : "{") + field_name(which);
    values.text(clear ? std::optional<std::string>(*clear + "}") : std::nullopt, "clear")
        .integer(micros(options.idle_timeout))
        .integer(micros(options.absolute_timeout));
    return guarded([&](detail::connection &conn, auto deadline) {
        return bool_cell(conn.run(statement::update, values, deadline).get(), 0, 0);
    });
}

bool client::remove(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return bool_cell(conn.run(statement::remove, values, deadline).get(), 0, 0);
    });
}

std::optional<std::string> client::rotate(std::string_view token) {
    params values = token_params(token);
    return guarded([&](detail::connection &conn, auto deadline) {
        return text_cell(conn.run(statement::rotate, values, deadline).get(), 0, 0);
    });
}

std::vector<session_info> client::list(std::string_view sub) {
    params values;
    values.text(sub, "sub");
    return guarded([&](detail::connection &conn, auto deadline) {
        result res = conn.run(statement::list, values, deadline);
        std::vector<session_info> sessions;
        for (int row = 0; row < PQntuples(res.get()); row++) {
            session_info info;
            info.created_at = time_cell(res.get(), row, 0).value_or(time_point{});
            info.last_accessed_at = time_cell(res.get(), row, 1).value_or(time_point{});
            info.expires_at = time_cell(res.get(), row, 2).value_or(time_point{});
            info.absolute_expires_at = time_cell(res.get(), row, 3);
            info.idle_timeout =
                std::chrono::microseconds(integer_cell(res.get(), row, 4).value_or(0));
            sessions.push_back(info);
        }
        return sessions;
    });
}

std::int64_t client::remove_by_sub(std::string_view sub) {
    params values;
    values.text(sub, "sub");
    return guarded([&](detail::connection &conn, auto deadline) {
        return integer_cell(conn.run(statement::remove_by_sub, values, deadline).get(), 0, 0)
            .value_or(0);
    });
}

std::int64_t client::cleanup(const cleanup_options &options) {
    params values;
    values.integer(options.batch_size).integer(options.max_batches);
    return guarded([&](detail::connection &conn, auto deadline) {
        return integer_cell(conn.run(statement::cleanup, values, deadline).get(), 0, 0).value_or(0);
    });
}

namespace {

// A batch's results in order, or the first failure in the order of the batch (every
// statement has run by then).
std::vector<result> results_of(std::vector<detail::connection::outcome> outcomes) {
    std::vector<result> results;
    results.reserve(outcomes.size());
    for (detail::connection::outcome &done : outcomes) {
        if (done.failure)
            std::rethrow_exception(done.failure);
        results.push_back(std::move(done.rows));
    }
    return results;
}

} // namespace

std::vector<std::optional<session>> client::get_many(const std::vector<std::string> &tokens) {
    std::vector<params> batch = token_batch(tokens);
    if (batch.empty())
        return {};
    return guarded([&](detail::connection &conn, auto deadline) {
        std::vector<std::optional<session>> sessions;
        sessions.reserve(batch.size());
        for (const result &res : results_of(conn.run_batch(statement::get, batch, deadline)))
            sessions.push_back(session_of(res.get()));
        return sessions;
    });
}

std::int64_t client::remove_many(const std::vector<std::string> &tokens) {
    std::vector<params> batch = token_batch(tokens);
    if (batch.empty())
        return 0;
    return guarded([&](detail::connection &conn, auto deadline) {
        std::int64_t removed = 0;
        for (const result &res : results_of(conn.run_batch(statement::remove, batch, deadline)))
            removed += bool_cell(res.get(), 0, 0) ? 1 : 0;
        return removed;
    });
}

} // namespace pgsession
