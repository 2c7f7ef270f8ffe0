// Internal: the values in the client's results (text cells, integers, booleans,
// timestamps as microseconds since the Unix epoch) and the session in a session_get row.
#pragma once

#include <pgsession/client.hpp>

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>

namespace pgsession::detail {

/// A text cell, empty when NULL.
std::optional<std::string> text_cell(const PGresult *res, int row, int column);
/// An int8 cell, empty when NULL; anything else throws error (XX000).
std::optional<std::int64_t> integer_cell(const PGresult *res, int row, int column);
/// A boolean cell ("t" or "f"); NULL reads as false.
bool bool_cell(const PGresult *res, int row, int column);
/// A timestamp cell (microseconds since the Unix epoch), empty when NULL.
std::optional<time_point> time_cell(const PGresult *res, int row, int column);
/// How many columns a session takes at the start of a session_get result (the session
/// columns of statement_sql, in session_of's order); standby_get's own columns follow.
constexpr int session_column_count = 10;

/// The session in the first session_column_count columns of a session_get result, empty
/// when there is no row.
std::optional<session> session_of(const PGresult *res);

} // namespace pgsession::detail
