// The values in the client's results (see cells.hpp).
#include "cells.hpp"

#include <pgsession/error.hpp>

#include <charconv>

namespace pgsession::detail {

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

} // namespace pgsession::detail
