// The client's exceptions, and the mapping from a SQLSTATE to the exception's kind.
#include "raise.hpp"

#include <pgsession/error.hpp>

#include <utility>

namespace pgsession {
namespace {

// what(): the message, then the SQLSTATE, then the detail.
std::string describe(const std::string &sqlstate, const std::string &message,
                     const std::string &detail) {
    std::string text = "pgsession: " + message + " (SQLSTATE " + sqlstate + ")";
    if (!detail.empty())
        text += ": " + detail;
    return text;
}

} // namespace

error::error(std::string sqlstate, std::string message, std::string detail, std::string hint)
    : std::runtime_error(describe(sqlstate, message, detail)), sqlstate_(std::move(sqlstate)),
      message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {}

namespace detail {

void raise(std::string sqlstate, std::string message, std::string detail, std::string hint,
           bool connection_lost) {
    // The server's errors (and libpq's, which have no SQLSTATE) after which the
    // connection is gone count as connection errors, whatever their SQLSTATE: e.g.
    // 57P01 when a fast shutdown terminates the backend.
    if (connection_lost || sqlstate.empty() || sqlstate.compare(0, 2, "08") == 0) {
        if (sqlstate.empty())
            sqlstate = "08006";
        throw connection_error(std::move(sqlstate), std::move(message), std::move(detail),
                               std::move(hint));
    }
    if (sqlstate == "57014") // statement_timeout (set to the call timeout) or a cancel
        throw timeout_error(std::move(sqlstate), std::move(message), std::move(detail),
                            std::move(hint));
    if (sqlstate == "23505")
        throw duplicate(std::move(sqlstate), std::move(message), std::move(detail),
                        std::move(hint));
    if (sqlstate == "42501")
        throw permission_denied(std::move(sqlstate), std::move(message), std::move(detail),
                                std::move(hint));
    if (sqlstate.compare(0, 2, "22") == 0)
        throw bad_input(std::move(sqlstate), std::move(message), std::move(detail),
                        std::move(hint));
    throw error(std::move(sqlstate), std::move(message), std::move(detail), std::move(hint));
}

} // namespace detail
} // namespace pgsession
